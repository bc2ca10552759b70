'use strict';
// compare.js A B: which cases and which fields of two vector files differ (for check.sh's failure message).
const fs = require('fs');

const [a, b] = process.argv.slice(2).map(f => fs.readFileSync(f, 'utf8').split('\n'));
for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (!a[i] || !b[i]) {
        console.log(`  line ${i + 1}: only in ${a[i] ? 'the committed' : 'the rebuilt'} file`);
        continue;
    }
    const x = JSON.parse(a[i]);
    const y = JSON.parse(b[i]);
    const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])];
    const differ = keys.filter(k => JSON.stringify(x[k]) !== JSON.stringify(y[k]));
    console.log(`  ${x.id}: ${differ.length > 0 ? differ.join(', ') : 'field order or formatting'}`);
    for (const k of differ) console.log(`    ${k}\n      committed: ${JSON.stringify(x[k])}\n      rebuilt:   ${JSON.stringify(y[k])}`);
}
