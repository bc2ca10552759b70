#!/usr/bin/env node
// plot.js RESULTS.json OUTDIR: turn one bench/run report (the .json next to its markdown) into data files and plots.
// Writes OUTDIR/results.json (a copy), one CSV a figure, and with gnuplot (Debian's gnuplot-nox) each figure as SVG
// (for the README) and PNG:
//   throughput.svg    requests/s by target, keep-alive and close
//   cpu.svg           server CPU microseconds per request by target, keep-alive and close
//   latency.svg       p50 and p99 by target and mode
//   rss-idle.svg      resident memory against idle keep-alive connections
//   instructions.svg  user-space instructions: per presign (signer) and per request (gateway and nginx under callgrind)
// A part the report lacks (bench/run --parts) is skipped, and so is its figure. Exits non-zero when gnuplot fails.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

if (process.argv.length !== 4) {
    console.error('usage: node bench/plot.js RESULTS.json OUTDIR');
    process.exit(2);
}
const report = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = path.resolve(process.argv[3]);
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(report, null, 1) + '\n');

const parts = report.parts || {};
const MODES = ['keepalive', 'close'];
const written = [];

// csv writes rows (arrays) with a header; gnuplot reads them with `set datafile separator ','` and columnheaders.
function csv(name, header, rows) {
    const q = v => (typeof v === 'string' && /[",\s]/.test(v) ? `"${v.replaceAll('"', '""')}"` : String(v));
    fs.writeFileSync(path.join(out, name), [header, ...rows].map(r => r.map(q).join(',')).join('\n') + '\n');
}

// The common look: white background, a grid on y, the key above the plot.
function preamble(file, title, ylabel) {
    return [
        `# output ${file.replace(/\.svg$/, '')}`,
        `set datafile separator ','`,
        `set datafile columnheaders`,
        `set title "${title}"`,
        `set ylabel "${ylabel}"`,
        `set yrange [0:*]`,
        `set grid ytics`,
        `set key outside top center horizontal`,
        `set style data histograms`,
        `set style histogram clustered gap 1`,
        `set style fill solid 0.85 border -1`,
        `set boxwidth 0.9`,
    ];
}

// bars draws one clustered bar chart: rows of [label, value...], one bar colour a column.
function bars(name, title, ylabel, header, rows, fmt = '%.0f', extra = []) {
    csv(`${name}.csv`, header, rows);
    const cols = header.slice(1).map((_, i) => i + 2);
    const plot = cols
        .map(c => `'${path.join(out, name + '.csv')}' using ${c}:xtic(1) title columnheader(${c})`)
        .join(', ');
    const labels = cols
        .map(
            (c, i) =>
                `'${path.join(out, name + '.csv')}' using ($0 + ${(i - (cols.length - 1) / 2) * (0.9 / cols.length)}):${c}:(sprintf('${fmt}', $${c})) ` +
                `with labels offset 0,0.7 font 'sans,9' notitle`
        )
        .join(', ');
    return [...preamble(`${name}.svg`, title, ylabel), `set offsets 0,0,graph 0.08,0`, ...extra, `plot ${plot}, ${labels}`];
}

const scripts = [];
const compare = parts.compare && parts.compare.summary;
if (compare) {
    const targets = [...new Set(Object.keys(compare).map(k => k.slice(0, k.lastIndexOf('/'))))];
    const pick = (t, m, k) => (compare[`${t}/${m}`] ? compare[`${t}/${m}`][k] : NaN);
    scripts.push(
        bars(
            'throughput',
            `Requests per second (64 connections, server on one core; medians of ${report.options ? report.options.rounds : 'the'} rounds)`,
            'requests/s',
            ['target', 'keep-alive', 'close'],
            targets.map(t => [t, ...MODES.map(m => pick(t, m, 'rps').toFixed(0))])
        )
    );
    scripts.push(
        bars(
            'cpu',
            'Server CPU per request (user + system)',
            'microseconds/request',
            ['target', 'keep-alive', 'close'],
            targets.map(t => [t, ...MODES.map(m => pick(t, m, 'cpu_us').toFixed(1))]),
            '%.1f'
        )
    );
    scripts.push(
        bars(
            'latency',
            'Latency under load (wrk --latency, 64 connections)',
            'milliseconds',
            ['target', 'p50 keep-alive', 'p99 keep-alive', 'p50 close', 'p99 close'],
            targets.map(t => [t, ...MODES.flatMap(m => [(pick(t, m, 'p50') / 1000).toFixed(2), (pick(t, m, 'p99') / 1000).toFixed(2)])]),
            '%.2f'
        )
    );
}

if (Array.isArray(parts.idle) && parts.idle.length > 0) {
    const targets = [...new Set(parts.idle.map(r => r.target))];
    const files = targets.map(t => {
        const f = `rss-idle-${t.replace(/[^a-z0-9]+/gi, '_')}.csv`;
        const rows = parts.idle.filter(r => r.target === t).sort((a, b) => a.open - b.open);
        csv(f, ['connections', 'rss_mib'], [[0, (rows[0].before / 1024).toFixed(1)], ...rows.map(r => [r.open, (r.rss / 1024).toFixed(1)])]);
        return [t, f];
    });
    csv('rss-idle.csv', ['target', 'connections', 'rss_kib_before', 'rss_kib', 'hwm_kib'], parts.idle.map(r => [r.target, r.open, r.before, r.rss, r.hwm]));
    scripts.push([
        ...preamble('rss-idle.svg', 'Resident memory holding idle keep-alive connections', 'RSS (MiB)'),
        `set style data linespoints`,
        `set xlabel 'idle connections'`,
        `set logscale y 2`,
        `set yrange [1:*]`,
        `plot ${files.map(([t, f]) => `'${path.join(out, f)}' using 1:2 title '${t}' lw 2 pt 7`).join(', ')}`,
    ]);
}

const callgrind = parts.callgrind;
const sgn = parts.sgn;
if ((Array.isArray(callgrind) && callgrind.length > 0) || sgn) {
    const rows = [];
    if (sgn) {
        rows.push(['one presign (signer)', sgn.ir_per_presign.toFixed(0)]);
    }
    for (const r of callgrind || []) {
        rows.push([`${r.target} ${r.mode === 'keepalive' ? 'keep-alive' : r.mode} request`, r.ir_per_request.toFixed(0)]);
    }
    scripts.push(
        bars('instructions', 'User-space instructions (callgrind; kernel work not counted)', 'instructions', ['what', 'instructions'], rows, '%.0f', [
            'set key off',
            'set xtics rotate by -12 left font "sans,10"',
            'set bmargin 5',
        ])
    );
}

const TERMINALS = {
    svg: `set terminal svg size 860,460 dynamic enhanced font 'sans,12' background rgb 'white'`,
    png: `set terminal pngcairo size 860,460 enhanced font 'sans,10' background rgb 'white'`,
};
for (const s of scripts) {
    const base = /^# output (.+)$/.exec(s[0])[1];
    for (const [ext, term] of Object.entries(TERMINALS)) {
        const file = path.join(out, `${base}.${ext}`);
        const r = spawnSync('gnuplot', [], { input: [term, `set output '${file}'`, ...s].join('\n') + '\n', encoding: 'utf8' });
        if (r.error || r.status !== 0) {
            console.error(`plot: gnuplot failed on ${base}.${ext}: ${r.error ? r.error.message : r.stderr}`);
            process.exit(1);
        }
        written.push(file);
    }
}
console.error(`plot: wrote ${written.map(f => path.relative(process.cwd(), f)).join(', ')}`);
