package recordpb_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
)

// TestSchemaIsTheSDKs compares record.proto, as compiled into record.pb.go, with the descriptor
// the SageMaker Python SDK ships (aws/sagemaker-python-sdk@v2.257.6:src/sagemaker/amazon/record_pb2.py,
// written to testdata by scripts/sagemaker-fixtures.py): every message, field, number, type,
// label, packing and oneof must be the same. Only the file options may differ (go_package).
func TestSchemaIsTheSDKs(t *testing.T) {
	b, err := os.ReadFile("../testdata/sdk/record_descriptor.pb")
	require.NoError(t, err)
	var sdk descriptorpb.FileDescriptorProto
	require.NoError(t, proto.Unmarshal(b, &sdk))
	ours := protodesc.ToFileDescriptorProto(recordpb.File_record_proto)
	for _, m := range ours.GetMessageType() {
		clearJSONNames(m)
	}

	assert.Equal(t, sdk.GetPackage(), ours.GetPackage())
	assert.Equal(t, sdk.GetSyntax(), ours.GetSyntax())
	require.Len(t, ours.GetMessageType(), len(sdk.GetMessageType()))
	for i, want := range sdk.GetMessageType() {
		got := ours.GetMessageType()[i]
		assert.True(t, proto.Equal(want, got), "message %s:\nSDK:  %v\nours: %v", want.GetName(), want, got)
	}
	// The Java options come along unchanged; go_package is the one addition.
	assert.Equal(t, sdk.GetOptions().GetJavaPackage(), ours.GetOptions().GetJavaPackage())
	assert.Equal(t, sdk.GetOptions().GetJavaOuterClassname(), ours.GetOptions().GetJavaOuterClassname())
}

// clearJSONNames drops the json_name that protodesc derives from each field name and that the
// SDK's older protoc did not record: it is no part of the schema.
func clearJSONNames(m *descriptorpb.DescriptorProto) {
	for _, f := range m.GetField() {
		f.JsonName = nil
	}
	for _, n := range m.GetNestedType() {
		clearJSONNames(n)
	}
}
