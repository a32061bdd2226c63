package components

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

const (
	ecrRepositoryType      = "aws:ecr/repository:Repository"
	ecrLifecyclePolicyType = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	dockerImageType        = "docker:index/image:Image"
)

// miContext writes a small build context and returns its directory.
func miContext(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	miWrite(t, dir, "Dockerfile", "FROM scratch\nCOPY server /server\n")
	miWrite(t, dir, "server", "binary")
	miWrite(t, dir, ".dockerignore", "# build noise\n*.log\ndocs/\n**/*.tmp\n!keep.log\n")
	return dir
}

func miWrite(t *testing.T, dir, rel, content string) {
	t.Helper()
	path := filepath.Join(dir, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// miRun creates one ModelImage under mocks and returns the mock and the component's outputs.
func miRun(t *testing.T, args *ModelImageArgs) (*pulumimock.Mocks, map[string]string) {
	t.Helper()
	mocks := pulumimock.New()
	out := map[string]string{}
	var mu sync.Mutex // applies run concurrently
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		img, err := NewModelImage(ctx, "churn", args)
		if err != nil {
			return err
		}
		capture := func(key string, o pulumi.StringOutput) {
			o.ApplyT(func(v string) string { mu.Lock(); out[key] = v; mu.Unlock(); return v })
		}
		capture("imageUri", img.ImageURI)
		capture("imageTag", img.ImageTag)
		capture("repositoryUrl", img.RepositoryURL)
		capture("repositoryArn", img.RepositoryARN)
		return nil
	}, pulumi.WithMocks("inferstack", "dev", mocks))
	require.NoError(t, err)
	return mocks, out
}

func TestModelImageRepositoryIsScannedImmutableAndEncrypted(t *testing.T) {
	tests := []struct {
		name        string
		kms         pulumi.StringInput
		forceDelete bool
		wantEnc     map[string]any
	}{
		{"AES256 without a key", nil, true, map[string]any{"encryptionType": "AES256"}},
		{"KMS with a key", pulumi.String("arn:aws:kms:eu-central-1:123456789012:key/abc"), false,
			map[string]any{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:eu-central-1:123456789012:key/abc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mocks, _ := miRun(t, &ModelImageArgs{Context: miContext(t), KMSKeyARN: tc.kms, ForceDelete: tc.forceDelete,
				Tags: StandardTags("ml-platform", "churn", "dev", "dev")})
			repo, err := mocks.One(ecrRepositoryType)
			require.NoError(t, err)
			assert.Equal(t, "churn-repo", repo.Name)
			assert.NotContains(t, repo.Inputs, "name", "autonamed")
			scan, _ := repo.Input("imageScanningConfiguration.scanOnPush")
			assert.Equal(t, true, scan)
			mut, _ := repo.Input("imageTagMutability")
			assert.Equal(t, "IMMUTABLE", mut)
			enc, _ := repo.Input("encryptionConfigurations.0")
			assert.Equal(t, tc.wantEnc, enc)
			fd, _ := repo.Input("forceDelete")
			assert.Equal(t, tc.forceDelete, fd)
			team, _ := repo.Input("tags.team")
			assert.Equal(t, "ml-platform", team)
			managed, _ := repo.Input("tags.managed-by")
			assert.Equal(t, ManagedBy, managed)
		})
	}
}

func TestModelImageLifecycleKeepsTheLastNImages(t *testing.T) {
	for _, keep := range []int{0, 3} {
		mocks, _ := miRun(t, &ModelImageArgs{Context: miContext(t), KeepImages: keep})
		lp, err := mocks.One(ecrLifecyclePolicyType)
		require.NoError(t, err)
		raw, _ := lp.Input("policy")
		var policy struct {
			Rules []struct {
				RulePriority int
				Selection    struct {
					TagStatus   string
					CountType   string
					CountNumber int
				}
				Action struct{ Type string }
			}
		}
		require.NoError(t, json.Unmarshal([]byte(raw.(string)), &policy))
		require.Len(t, policy.Rules, 1)
		want := keep
		if keep == 0 {
			want = DefaultKeepImages
		}
		r := policy.Rules[0]
		assert.Equal(t, "any", r.Selection.TagStatus)
		assert.Equal(t, "imageCountMoreThan", r.Selection.CountType)
		assert.Equal(t, want, r.Selection.CountNumber)
		assert.Equal(t, "expire", r.Action.Type)
		repoName, _ := lp.Input("repository")
		repo, _ := mocks.One(ecrRepositoryType)
		assert.Equal(t, repo.State["name"].StringValue(), repoName)
	}
}

func TestModelImageBuildsPushesAndPinsByDigest(t *testing.T) {
	dir := miContext(t)
	args := &ModelImageArgs{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"), Platform: PlatformARM64,
		BuildArgs: map[string]string{"MODEL_DIR": "models/churn"}}
	mocks, out := miRun(t, args)
	tag, err := ContentTag(dir, args.Dockerfile, PlatformARM64, args.BuildArgs)
	require.NoError(t, err)

	img, err := mocks.One(dockerImageType)
	require.NoError(t, err)
	name, _ := img.Input("imageName")
	assert.Equal(t, out["repositoryUrl"]+":"+tag, name, "unique content tag in the immutable repository")
	platform, _ := img.Input("build.platform")
	assert.Equal(t, PlatformARM64, platform)
	ctxDir, _ := img.Input("build.context")
	assert.Equal(t, dir, ctxDir)
	buildArg, _ := img.Input("build.args.MODEL_DIR")
	assert.Equal(t, "models/churn", buildArg)
	server, _ := img.Input("registry.server")
	assert.Equal(t, out["repositoryUrl"], server)
	user, _ := img.Input("registry.username")
	assert.Equal(t, "AWS", user)
	assert.True(t, pulumimock.IsSecret(img.Inputs, "registry.password"), "the ECR token must stay secret")

	assert.Regexp(t, "^"+regexp.QuoteMeta(out["repositoryUrl"])+"@sha256:[0-9a-f]{64}$", out["imageUri"])
	assert.Equal(t, tag, out["imageTag"])
	assert.Regexp(t, `^arn:aws:ecr:[a-z0-9-]+:\d{12}:repository/churn-repo-`, out["repositoryArn"])

	var tokenCalls int
	for _, c := range mocks.Calls() {
		if c.Token == "aws:ecr/getAuthorizationToken:getAuthorizationToken" {
			tokenCalls++
		}
	}
	assert.Equal(t, 1, tokenCalls, "registry credentials come from ecr.getAuthorizationToken")
}

func TestModelImageRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name string
		args *ModelImageArgs
		want string
	}{
		{"nil args", nil, "args are required"},
		{"no context", &ModelImageArgs{}, "Context is required"},
		{"missing context dir", &ModelImageArgs{Context: "/does/not/exist"}, "build context"},
		{"bad platform", &ModelImageArgs{Context: ".", Platform: "linux/s390x"}, "linux/s390x"},
		{"negative keep", &ModelImageArgs{Context: ".", KeepImages: -1}, "KeepImages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := NewModelImage(ctx, "churn", tc.args)
				return err
			}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestContentTagChangesExactlyWhenTheBuildChanges(t *testing.T) {
	dir := miContext(t)
	tag := func() string {
		t.Helper()
		got, err := ContentTag(dir, "", PlatformAMD64, map[string]string{"A": "1"})
		require.NoError(t, err)
		require.Len(t, got, contentTagLen)
		return got
	}
	base := tag()
	assert.Equal(t, base, tag(), "same content, same tag")

	miWrite(t, dir, "build.log", "noise")
	miWrite(t, dir, "docs/readme.md", "noise")
	miWrite(t, dir, "a/b/c.tmp", "noise")
	assert.Equal(t, base, tag(), ".dockerignore'd files do not change the tag")

	miWrite(t, dir, "keep.log", "kept by an exception")
	withException := tag()
	assert.NotEqual(t, base, withException, "a !exception is part of the context")

	miWrite(t, dir, "server", "new binary")
	changed := tag()
	assert.NotEqual(t, withException, changed, "a changed file gives a new tag")

	require.NoError(t, os.Chmod(filepath.Join(dir, "server"), 0o755))
	assert.Equal(t, changed, tag(), "a mode change alone keeps the tag: checkouts differ by umask")

	other, err := ContentTag(dir, "", PlatformARM64, map[string]string{"A": "1"})
	require.NoError(t, err)
	assert.NotEqual(t, tag(), other, "the platform is part of the tag")
	args, err := ContentTag(dir, "", PlatformAMD64, map[string]string{"A": "2"})
	require.NoError(t, err)
	assert.NotEqual(t, tag(), args, "build args are part of the tag")

	_, err = ContentTag(dir, filepath.Join(dir, "missing.Dockerfile"), PlatformAMD64, nil)
	assert.ErrorContains(t, err, "dockerfile")
}

func TestPlatformForMatchesTheInstanceFamily(t *testing.T) {
	tests := []struct {
		instanceType string
		serverless   bool
		want         string
	}{
		{"ml.m5.large", false, PlatformAMD64},
		{"ml.c6g.xlarge", false, PlatformARM64},
		{"ml.m7g.2xlarge", false, PlatformARM64},
		{"ml.r6gd.large", false, PlatformARM64},
		{"ml.c6gn.large", false, PlatformARM64},
		{"ml.g5.xlarge", false, PlatformAMD64},   // GPU, x86_64
		{"ml.g4dn.xlarge", false, PlatformAMD64}, // GPU, x86_64
		{"ml.inf2.xlarge", false, PlatformAMD64},
		{"ml.c6g.xlarge", true, PlatformAMD64}, // serverless runs on x86_64
		{"", true, PlatformAMD64},
	}
	for _, tc := range tests {
		t.Run(tc.instanceType, func(t *testing.T) {
			assert.Equal(t, tc.want, PlatformFor(tc.instanceType, tc.serverless))
		})
	}
}
