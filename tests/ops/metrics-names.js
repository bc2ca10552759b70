#!/usr/bin/env node
// tests/ops/metrics-names.js: every metric that contrib/'s Grafana dashboard and Prometheus alert rules query is
// one that the gateway exports.
//
//   node metrics-names.js --metrics SCRAPE.txt --dashboard oss-gateway.json --rules alerts.yml [--expected NAME]...
//
// SCRAPE.txt is a live gateway's /metrics. Every PromQL expression (the dashboard's targets and the `query` of its
// template variables, the rules' `expr`) is parsed with Prometheus's own grammar (@prometheus-io/lezer-promql); a
// syntax error fails the check. Each vector selector's metric name, written as a name or as {__name__="..."}, must be
// a sample name in SCRAPE.txt, or `up` (which Prometheus adds to every scrape), or one given with --expected: a
// metric another change is adding, reported as expected until the gateway exports it. Anything else fails, as does
// a selector whose name cannot be known ({__name__=~"..."}). Exit 0 when all is well, 1 otherwise.
'use strict';

const fs = require('node:fs');
const { parser } = require('@prometheus-io/lezer-promql');
const YAML = require('yaml');

const SYNTHETIC = new Set(['up']); // series Prometheus itself adds per scrape target

function args(argv) {
    const out = { expected: [] };
    for (let i = 2; i < argv.length; i += 2) {
        const [flag, value] = [argv[i], argv[i + 1]];
        if (value === undefined)
            throw new Error(`${flag} needs a value`);
        if (flag === '--expected')
            out.expected.push(value);
        else if (['--metrics', '--dashboard', '--rules'].includes(flag))
            out[flag.slice(2)] = value;
        else
            throw new Error(`unknown argument ${flag}`);
    }
    for (const need of ['metrics', 'dashboard', 'rules']) {
        if (!out[need])
            throw new Error(`--${need} is required`);
    }
    return out;
}

// The sample names of a text exposition (`name{labels} value` or `name value`), comments skipped.
function exported(text) {
    const names = new Set();
    for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
        if (m)
            names.add(m[1]);
    }
    return names;
}

// Grafana's variables become what Prometheus would see: an interval in a range, a plain word in a label value.
function expandGrafana(expr) {
    return expr.replace(/\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g, '5m')
        .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, 'x');
}

// The PromQL inside a Grafana template query: label_values(EXPR, label), query_result(EXPR); label_values(label)
// and the like query no metric.
function templateExpr(query) {
    const q = String(query).trim();
    let m = /^label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$/s.exec(q);
    if (m)
        return m[1];
    m = /^query_result\((.*)\)$/s.exec(q);
    if (m)
        return m[1];
    if (/^label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$/.test(q) || /^label_names\(\)$/.test(q))
        return null;
    throw new Error(`template query the check cannot read: ${q}`);
}

// Every expression of the dashboard, with where it is.
function dashboardExprs(dash) {
    const out = [];
    const walk = (node, where) => {
        if (Array.isArray(node)) {
            node.forEach((n, i) => walk(n, `${where}[${i}]`));
        } else if (node && typeof node === 'object') {
            if (typeof node.expr === 'string')
                out.push({ where: `${where} "${node.expr}"`, expr: expandGrafana(node.expr) });
            for (const [k, v] of Object.entries(node)) {
                if (k !== 'templating')
                    walk(v, `${where}.${k}`);
            }
        }
    };
    walk(dash.panels || [], 'panels');
    for (const v of (dash.templating && dash.templating.list) || []) {
        if (v.type !== 'query')
            continue;
        const q = typeof v.query === 'string' ? v.query : v.query && v.query.query;
        const e = templateExpr(q);
        if (e !== null)
            out.push({ where: `variable ${v.name} "${q}"`, expr: expandGrafana(e) });
    }
    return out;
}

function rulesExprs(doc) {
    const out = [];
    for (const g of doc.groups || []) {
        for (const r of g.rules || [])
            out.push({ where: `rule ${r.alert || r.record}`, expr: String(r.expr) });
    }
    return out;
}

// The metric names an expression selects; throws on a syntax error or a name that cannot be known.
function metricNames(expr) {
    const tree = parser.parse(expr);
    const names = [];
    let error = null;
    tree.iterate({
        enter(node) {
            if (node.type.isError && error === null)
                error = `syntax error at offset ${node.from}: "${expr.slice(Math.max(0, node.from - 20), node.from + 20)}"`;
            if (node.name !== 'VectorSelector')
                return;
            const id = node.node.getChild('Identifier');
            if (id)
                names.push(expr.slice(id.from, id.to));
            // {__name__="x"}: a name matcher inside the braces.
            const text = expr.slice(node.from, node.to);
            const m = /__name__\s*(=~|!~|!=|=)\s*"([^"]*)"/.exec(text);
            if (m) {
                if (m[1] !== '=')
                    error = `a metric name matched with ${m[1]} cannot be checked: ${text}`;
                else
                    names.push(m[2]);
            }
        },
    });
    if (error !== null)
        throw new Error(error);
    return names;
}

function main() {
    const a = args(process.argv);
    const have = exported(fs.readFileSync(a.metrics, 'utf8'));
    if (have.size === 0)
        throw new Error(`${a.metrics} has no samples`);
    const exprs = [
        ...dashboardExprs(JSON.parse(fs.readFileSync(a.dashboard, 'utf8'))).map(e => ({ ...e, file: a.dashboard })),
        ...rulesExprs(YAML.parse(fs.readFileSync(a.rules, 'utf8'))).map(e => ({ ...e, file: a.rules })),
    ];
    let failed = false;
    const used = new Map();
    for (const e of exprs) {
        let names;
        try {
            names = metricNames(e.expr);
        } catch (err) {
            console.log(`FAIL ${e.file}: ${e.where}: ${err.message}`);
            failed = true;
            continue;
        }
        if (names.length === 0) {
            console.log(`FAIL ${e.file}: ${e.where}: selects no metric`);
            failed = true;
        }
        for (const n of names) {
            if (!used.has(n))
                used.set(n, new Set());
            used.get(n).add(e.file);
            if (!have.has(n) && !SYNTHETIC.has(n) && !a.expected.includes(n)) {
                console.log(`FAIL ${e.file}: ${e.where}: ${n} is not a metric the gateway exports`);
                failed = true;
            }
        }
    }
    for (const [n, files] of [...used].sort()) {
        const state = have.has(n) ? 'exported' : SYNTHETIC.has(n) ? 'added by Prometheus'
            : a.expected.includes(n) ? 'expected, not exported yet' : 'UNKNOWN';
        console.log(`${failed ? '    ' : 'ok  '} ${n}: ${state} (${[...files].join(', ')})`);
    }
    console.log(`${exprs.length} expressions, ${used.size} metrics`);
    return failed ? 1 : 0;
}

try {
    process.exitCode = main();
} catch (err) {
    console.error(`metrics-names.js: ${err.message}`);
    process.exitCode = 1;
}
