#!/usr/bin/env bash
# Type-checks the TypeScript consumer program (examples/typescript) against the SDK generated
# from the provider's schema, the way a TypeScript user gets it:
#   1. builds the provider (provider/, its own Go module),
#   2. `pulumi package get-schema` runs it and reads the schema, as `pulumi package add` does,
#   3. provider/internal/gennodejs writes the TypeScript SDK with Pulumi's nodejs code generator
#      (`pulumi package gen-sdk` runs the same generator inside the pulumi-language-nodejs plugin,
#      a Go module the module proxy does not serve, so it cannot be had here),
#   4. `npm install` brings @pulumi/pulumi and typescript from npm and builds the SDK (its
#      postinstall runs tsc), then `tsc --noEmit` type-checks examples/typescript/index.ts.
#
# Not run by .ci/run: it needs npm and the Pulumi CLI, which builds from the Go module proxy
# (github.com/pulumi/pulumi/pkg/v3 v3.274.1, cmd/pulumi) in 5 to 50 minutes on 2 busy cores.
# The CLI is taken from $PULUMI, else `pulumi` on PATH, else built once into
# ${XDG_CACHE_HOME:-~/.cache}/inferstack/pulumi-v3.274.1/.
#
# Usage: scripts/check-ts-example.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PULUMI_CLI_VERSION=v3.274.1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build_pulumi builds the CLI. pkg/v3's go.mod has replace directives, which `go install
# pkg@version` refuses, so it builds inside a scratch module that requires pkg/v3 with the same
# requirements (its go.mod minus the replace of sdk/v3, which the proxy serves at the same version).
build_pulumi() {
	local dest=$1 mod src
	mod=$(mktemp -d)
	go mod download -json "github.com/pulumi/pulumi/pkg/v3@$PULUMI_CLI_VERSION" >"$mod/info.json"
	src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$mod/info.json")
	sed -e 's#^module .*#module inferstack.local/pulumi-cli#' \
		-e '/^replace github.com\/pulumi\/pulumi\/sdk\/v3/d' "$src/go.mod" >"$mod/go.mod"
	cp "$src/go.sum" "$mod/go.sum"
	printf '\nrequire github.com/pulumi/pulumi/pkg/v3 %s\n' "$PULUMI_CLI_VERSION" >>"$mod/go.mod"
	(cd "$mod" && GOFLAGS="-mod=mod -buildvcs=false" nice go build -o "$dest" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
	rm -rf "$mod"
}

pulumi=${PULUMI:-$(command -v pulumi || true)}
if [ -z "$pulumi" ]; then
	pulumi="${XDG_CACHE_HOME:-$HOME/.cache}/inferstack/pulumi-$PULUMI_CLI_VERSION/pulumi"
	if [ ! -x "$pulumi" ]; then
		echo "+ building the Pulumi CLI $PULUMI_CLI_VERSION into $pulumi (once)"
		mkdir -p "$(dirname "$pulumi")"
		build_pulumi "$pulumi"
	fi
fi

echo "+ go build ./provider"
(cd "$root/provider" && go build -o "$work/bin/pulumi-resource-inferstack" .)

echo "+ pulumi package get-schema"
export PULUMI_HOME="$work/.pulumi" PULUMI_SKIP_UPDATE_CHECK=true
"$pulumi" package get-schema "$work/bin/pulumi-resource-inferstack" >"$work/schema.json"

example="$work/example"
mkdir -p "$example"
cp "$root"/examples/typescript/{Pulumi.yaml,package.json,tsconfig.json,index.ts} "$example/"

echo "+ generate the TypeScript SDK into sdks/inferstack"
(cd "$root/provider" && go run ./internal/gennodejs -schema "$work/schema.json" -out "$example/sdks/inferstack")

echo "+ npm install (in a copy of examples/typescript)"
(cd "$example" && npm install --no-audit --no-fund --loglevel=error)

echo "+ tsc --noEmit"
(cd "$example" && npx --no-install tsc --noEmit -p tsconfig.json)
echo "examples/typescript type-checks against the generated SDK ($(wc -c <"$work/schema.json") bytes of schema)"
