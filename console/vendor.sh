#!/usr/bin/env bash
# Refresh console/static/vendor/ from the npm registry with `npm pack`: every package and file named in vendor.txt,
# plus a VERSION file (name, version, licence, tarball integrity). Nothing is fetched when the console runs.
set -euo pipefail
cd "$(dirname "$0")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
grep -v '^#' vendor.txt | while read -r name version files; do
    [ -n "$name" ] || continue
    tarball="$(cd "$work" && npm pack --silent "$name@$version")"
    mkdir -p "$work/$name"
    tar -xzf "$work/$tarball" -C "$work/$name"
    target="static/vendor/$name"
    rm -rf "$target"
    mkdir -p "$target"
    for file in $files; do cp "$work/$name/package/$file" "$target/"; done
    licence="$(node -p "require('$work/$name/package/package.json').license")"
    integrity="$(npm view "$name@$version" dist.integrity)"
    printf '%s %s\nlicence: %s\nintegrity: %s\n' "$name" "$version" "$licence" "$integrity" >"$target/VERSION"
    echo "vendored $name $version ($licence)"
done
