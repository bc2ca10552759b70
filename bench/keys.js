// keys.js: the 1000 object keys every target is asked for, with spaces, '+', parentheses and non-ASCII (CJK, Latin
// accents, emoji), and the request path for each: /files/ + the key percent-encoded per segment (UTF-8).
'use strict';

const TEMPLATES = [
    i => `photos/2024 summer/IMG ${i}.jpg`,
    i => `文档/季度报告 第${i}期.pdf`,
    i => `music/Björk – Jóga (live ${i}).mp3`,
    i => `data/report ${i} final+v2.csv`,
    i => `emoji/🎉 party ${i}.png`,
    i => `a/b/c/deep path ${i}/名前 ${i % 7}.txt`,
    i => `plain-${i}.bin`,
    i => `Ελληνικά/αρχείο ${i}.zip`,
];

function encodePath(key) {
    return key.split('/').map(encodeURIComponent).join('/');
}

function keys(n = 1000) {
    const out = [];
    for (let i = 0; i < n; i++) {
        const key = TEMPLATES[i % TEMPLATES.length](i);
        out.push({ key, path: `/files/${encodePath(key)}` });
    }
    return out;
}

module.exports = { keys, encodePath };
