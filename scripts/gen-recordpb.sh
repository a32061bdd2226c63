#!/bin/sh
# Regenerates inference/internal/recordio/recordpb/record.pb.go from record.proto.
# Needs protoc (Debian: apt-get install protobuf-compiler) and Go; protoc-gen-go is built at the
# google.golang.org/protobuf version go.mod requires, so the generated code matches the runtime.
# Run from anywhere inside the repository: scripts/gen-recordpb.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v protoc >/dev/null || { echo "gen-recordpb: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
version=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
bin=${GEN_RECORDPB_BIN:-$(mktemp -d)}
GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$version"
dir=inference/internal/recordio/recordpb
PATH="$bin:$PATH" protoc --proto_path="$dir" --go_out="$dir" --go_opt=paths=source_relative record.proto
echo "gen-recordpb: $dir/record.pb.go from protoc $(protoc --version | cut -d' ' -f2), protoc-gen-go $version"
