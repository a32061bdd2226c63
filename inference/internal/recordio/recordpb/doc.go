// Package recordpb holds the Go types of SageMaker's "aialgs.data" Record protobuf, the payload
// of every record in an application/x-recordio-protobuf body. record.pb.go is generated from
// record.proto by scripts/gen-recordpb.sh; do not edit it.
package recordpb
