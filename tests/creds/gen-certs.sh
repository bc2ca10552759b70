#!/bin/sh
# tests/creds/gen-certs.sh DIR: a throwaway test PKI for the TLS tests, made fresh by each test run (private keys are
# never committed): DIR/ca.{crt,key} signs DIR/localhost.{crt,key} (SAN DNS:localhost, IP:127.0.0.1, IP:::1) and
# DIR/other.{crt,key} (SAN DNS:other.example); DIR/rogue-ca.* signs DIR/rogue.{crt,key} (SAN DNS:localhost), which the
# test CA does not vouch for.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.crt" -days 2 \
        -subj "/CN=oss-gateway test $1" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
        2>/dev/null
}
leaf() { # name ca san
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.crt" \
        2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
ca ca
ca rogue-ca
leaf localhost ca "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf other ca "DNS:other.example"
leaf rogue rogue-ca "DNS:localhost,IP:127.0.0.1"
chmod 600 ./*.key
