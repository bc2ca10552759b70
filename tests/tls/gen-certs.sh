#!/bin/sh
# tests/tls/gen-certs.sh DIR: a throwaway PKI for the TLS listener tests, made fresh by each run (private keys are never
# committed). DIR/ca.crt (root) signs DIR/int.crt (intermediate), which signs:
#   a.{crt,key}  ECDSA P-256, SAN DNS:a.test, DNS:localhost, IP:127.0.0.1; a.crt is the full chain (leaf, intermediate)
#   b.{crt,key}  RSA 2048, SAN DNS:b.test, DNS:*.b.test; full chain too
# Keys are mode 0600, as the config requires.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 \
    -subj "/CN=oss-gateway TLS test root" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout int.key -out int.csr \
    -subj "/CN=oss-gateway TLS test intermediate" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n' >int.ext
openssl x509 -req -in int.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile int.ext -out int.crt 2>/dev/null
leaf() { # name keyopts san
    # shellcheck disable=SC2086 # $2 is several options
    openssl req -newkey $2 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA int.crt -CAkey int.key -CAcreateserial -days 2 -extfile "$1.ext" \
        -out "$1.leaf" 2>/dev/null
    cat "$1.leaf" int.crt >"$1.crt"
    rm -f "$1.csr" "$1.ext" "$1.leaf"
}
leaf a "ec -pkeyopt ec_paramgen_curve:P-256" "DNS:a.test,DNS:localhost,IP:127.0.0.1"
leaf b "rsa:2048" "DNS:b.test,DNS:*.b.test"
rm -f int.csr int.ext ./*.srl
chmod 600 ./*.key
