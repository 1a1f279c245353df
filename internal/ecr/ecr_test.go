package ecr_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func TestRepositories(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	out, err := e.c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Repository
	got := []string{aws.ToString(r.RepositoryArn), aws.ToString(r.RegistryId), aws.ToString(r.RepositoryUri),
		string(r.ImageTagMutability), string(r.EncryptionConfiguration.EncryptionType), fmt.Sprint(r.ImageScanningConfiguration.ScanOnPush)}
	want := []string{"arn:aws:ecr:us-east-1:000000000000:repository/team/app", "000000000000", e.srv.RegistryHost() + "/team/app",
		"MUTABLE", "AES256", "false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateRepository (-want +got):\n%s", diff)
	}
	if !r.CreatedAt.Equal(e.clock.Now()) {
		t.Errorf("createdAt: got %v, want the clock's %v", r.CreatedAt, e.clock.Now())
	}

	_, err = e.c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "RepositoryAlreadyExistsException", Status: 400, Message: "The repository with name 'team/app' already exists in the registry with id '000000000000'"})
	for _, bad := range []string{"Upper", "a", "trailing/", "double--dash/-x", strings.Repeat("a", 257)} {
		_, err = e.c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(bad)})
		awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Invalid parameter at 'repositoryName'"})
	}
	_, err = e.c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("x1"), ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: "WILDCARD", Filter: aws.String("a")}, {FilterType: "WILDCARD", Filter: aws.String("b")},
			{FilterType: "WILDCARD", Filter: aws.String("c")}, {FilterType: "WILDCARD", Filter: aws.String("d")}, {FilterType: "WILDCARD", Filter: aws.String("e")}, {FilterType: "WILDCARD", Filter: aws.String("f")}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'Member must have length less than or equal to 5'"})
	// "a__b" passes the model's pattern but not the registry's, which
	// CreateRepository holds new names to.
	_, err = e.c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("a__b")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"})
	_, err = e.c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(1001)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value less than or equal to 1000'"})

	kms, err := e.c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("secure"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("arn:aws:kms:us-east-1:000000000000:key/k")},
		ImageTagMutability:         types.ImageTagMutabilityImmutable})
	if err != nil {
		t.Fatal(err)
	}
	if k := kms.Repository.EncryptionConfiguration; k.EncryptionType != types.EncryptionTypeKms || aws.ToString(k.KmsKey) != "arn:aws:kms:us-east-1:000000000000:key/k" || !kms.Repository.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("settings not stored: %+v", kms.Repository)
	}

	for i := range 4 {
		e.createRepo(fmt.Sprintf("page/r%d", i))
	}
	var names []string
	p := ecr.NewDescribeRepositoriesPaginator(e.c, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Repositories {
			names = append(names, aws.ToString(r.RepositoryName))
		}
	}
	wantNames := []string{"page/r0", "page/r1", "page/r2", "page/r3", "secure", "team/app"}
	if diff := cmp.Diff(wantNames, names); diff != "" || pages != 3 {
		t.Errorf("DescribeRepositories in %d pages (-want +got):\n%s", pages, diff)
	}
	_, err = e.c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/app", "nope"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "RepositoryNotFoundException", Status: 400, Message: "The repository with name 'nope' does not exist in the registry with id '000000000000'"})

	// Tags.
	arn := aws.ToString(r.RepositoryArn)
	if _, err := e.c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: &arn, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" || aws.ToString(tags.Tags[0].Value) != "prod" {
		t.Errorf("ListTagsForResource: got %+v, want env=prod", tags.Tags)
	}
	_, err = e.c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Invalid ARN"})

	// Settings.
	mut, err := e.c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("team/app"), ImageTagMutability: types.ImageTagMutabilityMutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: "WILDCARD", Filter: aws.String("release-*")}}})
	if err != nil || mut.ImageTagMutability != types.ImageTagMutabilityMutableWithExclusion || len(mut.ImageTagMutabilityExclusionFilters) != 1 {
		t.Errorf("PutImageTagMutability: got %+v, %v", mut, err)
	}
	_, err = e.c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("team/app"), ImageTagMutability: types.ImageTagMutabilityImmutable,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: "WILDCARD", Filter: aws.String("x")}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "exclusion filters can only be used"})
	if _, err := e.c.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{RepositoryName: aws.String("team/app"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}}); err != nil {
		t.Fatal(err)
	}
	d, err := e.c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/app"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Repositories[0]; !r.ImageScanningConfiguration.ScanOnPush || r.ImageTagMutability != types.ImageTagMutabilityMutableWithExclusion {
		t.Errorf("settings after Put*: got %+v", r)
	}

	// Deleting: not while images remain, unless forced.
	e.mustPush("team/app", "v1", makeImage(randomBytes(100, 1)))
	_, err = e.c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("team/app")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "RepositoryNotEmptyException", Status: 400, Message: "cannot be deleted because it still contains images"})
	if _, err := e.c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("team/app"), Force: true}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("team/app")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "RepositoryNotFoundException", Status: 400, Message: "team/app"})
	if r := e.do(e.auth, "GET", "/v2/team/app/manifests/v1", nil); r.status != 404 || !strings.HasPrefix(r.code(), "NAME_UNKNOWN") {
		t.Errorf("pull from a deleted repository: got %d %s, want 404 NAME_UNKNOWN", r.status, r.code())
	}
	if _, err := e.c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("page/r0")}); err != nil {
		t.Errorf("deleting an empty repository: %v", err)
	}
}

func TestAuthorizationToken(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	out, err := e.c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	a := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(a.AuthorizationToken))
	if err != nil || !strings.HasPrefix(string(raw), "AWS:") {
		t.Fatalf("authorizationToken: got %q (%v), want base64 of AWS:<token>", raw, err)
	}
	if want := e.clock.Now().Add(12 * time.Hour); !a.ExpiresAt.Equal(want) {
		t.Errorf("expiresAt: got %v, want %v", a.ExpiresAt, want)
	}
	if got, want := aws.ToString(a.ProxyEndpoint), "http://"+e.srv.RegistryHost(); got != want {
		t.Errorf("proxyEndpoint: got %q, want %q", got, want)
	}

	r := e.do("", "GET", "/v2/", nil)
	if r.status != 401 || r.header.Get("WWW-Authenticate") != fmt.Sprintf(`Basic realm="http://%s/",service="ecr.amazonaws.com"`, e.srv.RegistryHost()) {
		t.Errorf("anonymous ping: got %d %q, want 401 with a Basic challenge", r.status, r.header.Get("WWW-Authenticate"))
	}
	if r.header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Errorf("Docker-Distribution-API-Version: got %q", r.header.Get("Docker-Distribution-API-Version"))
	}
	if r := e.do(e.auth, "GET", "/v2/", nil); r.status != 200 {
		t.Errorf("ping with the token: got %d, want 200", r.status)
	}
	for _, bad := range []string{"Basic " + b64("AWS:not-a-token"), "Basic " + b64("bob:"+strings.TrimPrefix(string(raw), "AWS:")), "Bearer x"} {
		if r := e.do(bad, "GET", "/v2/", nil); r.status != 401 || !strings.HasPrefix(r.code(), "UNAUTHORIZED") {
			t.Errorf("%s: got %d %s, want 401 UNAUTHORIZED", bad, r.status, r.code())
		}
	}
	e.clock.Advance(12*time.Hour + time.Second)
	if r := e.do(e.auth, "GET", "/v2/", nil); r.status != 401 {
		t.Errorf("expired token: got %d, want 401", r.status)
	}
}

// TestLayerAPIThenRegistry pushes with the ECR API's layer operations and
// PutImage, as the SDKs do, then pulls with the registry protocol and a
// GetDownloadUrlForLayer URL.
func TestLayerAPIThenRegistry(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("api/app")
	repo := aws.String("api/app")
	layer := randomBytes(3000, 9)
	img := makeImage(layer)

	upload := func(data []byte, parts int) string {
		init, err := e.c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: repo})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt64(init.PartSize) <= 0 {
			t.Errorf("partSize: got %d", aws.ToInt64(init.PartSize))
		}
		step := (len(data) + parts - 1) / parts
		for first := 0; first < len(data); first += step {
			last := min(first+step, len(data)) - 1
			out, err := e.c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: init.UploadId,
				PartFirstByte: aws.Int64(int64(first)), PartLastByte: aws.Int64(int64(last)), LayerPartBlob: data[first : last+1]})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt64(out.LastByteReceived) != int64(last) {
				t.Errorf("lastByteReceived: got %d, want %d", aws.ToInt64(out.LastByteReceived), last)
			}
		}
		return aws.ToString(init.UploadId)
	}

	// A gap between parts is refused with where the upload stands.
	id := upload(layer[:1000], 1)
	_, err := e.c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: &id,
		PartFirstByte: aws.Int64(1500), PartLastByte: aws.Int64(1999), LayerPartBlob: layer[1500:2000]})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidLayerPartException", Status: 400, Message: "parts must be sent in order"})
	var lp *types.InvalidLayerPartException
	if errorsAs(err, &lp) && aws.ToInt64(lp.LastValidByteReceived) != 999 {
		t.Errorf("lastValidByteReceived: got %d, want 999", aws.ToInt64(lp.LastValidByteReceived))
	}
	// A wrong digest stores nothing.
	_, err = e.c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: &id, LayerDigests: []string{digestOf(layer)}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidLayerException", Status: 400, Message: "does not match"})
	_, err = e.c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: &id, LayerDigests: []string{digestOf(layer)}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "UploadNotFoundException", Status: 400, Message: id})

	for _, b := range [][]byte{layer, img.config} {
		id := upload(b, 3)
		out, err := e.c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: &id, LayerDigests: []string{digestOf(b)}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.LayerDigest) != digestOf(b) {
			t.Errorf("layerDigest: got %s, want %s", aws.ToString(out.LayerDigest), digestOf(b))
		}
	}
	id = upload(layer, 2)
	_, err = e.c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: &id, LayerDigests: []string{digestOf(layer)}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "LayerAlreadyExistsException", Status: 400, Message: digestOf(layer)})

	check, err := e.c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: repo,
		LayerDigests: []string{digestOf(layer), digestOf([]byte("missing")), "bad"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(check.Layers) != 1 || check.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable || aws.ToInt64(check.Layers[0].LayerSize) != 3000 ||
		len(check.Failures) != 2 || check.Failures[0].FailureCode != types.LayerFailureCodeMissingLayerDigest || check.Failures[1].FailureCode != types.LayerFailureCodeInvalidLayerDigest {
		t.Errorf("BatchCheckLayerAvailability: got %+v", check)
	}

	put, err := e.c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: repo, ImageManifest: aws.String(string(img.manifest)), ImageTag: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.Image.ImageId.ImageDigest) != img.digest || aws.ToString(put.Image.ImageManifestMediaType) != dockerManifest {
		t.Errorf("PutImage: got %+v", put.Image)
	}

	// The registry serves what the API pushed.
	r := e.do(e.auth, "GET", "/v2/api/app/manifests/v1", nil, "Accept", dockerManifest)
	if r.status != 200 || !bytes.Equal(r.body, img.manifest) || r.header.Get("Docker-Content-Digest") != img.digest || r.header.Get("Content-Type") != dockerManifest {
		t.Fatalf("registry GET manifest: got %d %q %s", r.status, r.header.Get("Docker-Content-Digest"), r.code())
	}
	if r := e.do(e.auth, "GET", "/v2/api/app/blobs/"+digestOf(layer), nil); r.status != 200 || !bytes.Equal(r.body, layer) {
		t.Errorf("registry GET blob: got %d, %d bytes", r.status, len(r.body))
	}
	if r := e.do(e.auth, "GET", "/v2/api/app/blobs/"+digestOf(layer), nil, "Range", "bytes=10-19"); r.status != 206 || !bytes.Equal(r.body, layer[10:20]) ||
		r.header.Get("Content-Range") != "bytes 10-19/3000" {
		t.Errorf("ranged GET: got %d %q", r.status, r.header.Get("Content-Range"))
	}

	// A download URL works without credentials, like a presigned S3 URL.
	dl, err := e.c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: repo, LayerDigest: aws.String(digestOf(layer))})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(aws.ToString(dl.DownloadUrl))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, layer) {
		t.Errorf("download URL: got %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, err := http.Get(aws.ToString(dl.DownloadUrl) + "x"); err != nil || resp.StatusCode != 403 {
		t.Errorf("tampered download URL: got %v, %v, want 403", resp.StatusCode, err)
	}
	_, err = e.c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: repo, LayerDigest: aws.String(digestOf([]byte("x")))})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "LayersNotFoundException", Status: 400, Message: "does not exist"})
	e.clock.Advance(2 * time.Hour)
	if resp, err := http.Get(aws.ToString(dl.DownloadUrl)); err != nil || resp.StatusCode != 403 {
		t.Errorf("expired download URL: got %v, %v, want 403", resp.StatusCode, err)
	}
}

// TestRegistryThenAPI pushes with the registry protocol (chunked, as
// docker's big layers go) and reads the image back through the API.
func TestRegistryThenAPI(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("web")
	layer := randomBytes(5000, 3)
	img := makeImage(layer)

	// Chunked upload with Content-Range, one chunk out of order.
	r := e.do(e.auth, "POST", "/v2/web/blobs/uploads/", nil)
	loc := r.header.Get("Location")
	r = e.do(e.auth, "PATCH", loc, layer[:2000], "Content-Range", "0-1999", "Content-Type", "application/octet-stream")
	if r.status != 202 || r.header.Get("Range") != "0-1999" {
		t.Fatalf("first chunk: got %d %q", r.status, r.header.Get("Range"))
	}
	r = e.do(e.auth, "PATCH", loc, layer[3000:], "Content-Range", "3000-4999")
	if r.status != 416 || r.header.Get("Range") != "0-1999" {
		t.Fatalf("chunk out of order: got %d %q %s, want 416 with Range 0-1999", r.status, r.header.Get("Range"), r.code())
	}
	if r = e.do(e.auth, "GET", loc, nil); r.status != 204 || r.header.Get("Range") != "0-1999" {
		t.Errorf("upload status: got %d %q", r.status, r.header.Get("Range"))
	}
	e.do(e.auth, "PATCH", loc, layer[2000:], "Content-Range", "2000-4999")
	if r = e.do(e.auth, "PUT", loc+"?digest="+digestOf(layer), nil); r.status != 201 || r.header.Get("Docker-Content-Digest") != digestOf(layer) {
		t.Fatalf("finishing: got %d %s", r.status, r.code())
	}
	e.pushBlob(e.auth, "web", img.config)
	if r = e.do(e.auth, "PUT", "/v2/web/manifests/latest", img.manifest, "Content-Type", dockerManifest); r.status != 201 {
		t.Fatalf("manifest: got %d %s", r.status, r.code())
	}
	e.clock.Advance(time.Minute)
	e.do(e.auth, "GET", "/v2/web/manifests/latest", nil)

	got, err := e.c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("web"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("latest")}, {ImageTag: aws.String("nope")}, {ImageDigest: aws.String("sha256:bad")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Images) != 1 || aws.ToString(got.Images[0].ImageManifest) != string(img.manifest) || aws.ToString(got.Images[0].ImageId.ImageDigest) != img.digest {
		t.Errorf("BatchGetImage: got %+v", got.Images)
	}
	var codes []types.ImageFailureCode
	for _, f := range got.Failures {
		codes = append(codes, f.FailureCode)
	}
	if diff := cmp.Diff([]types.ImageFailureCode{types.ImageFailureCodeImageNotFound, types.ImageFailureCodeInvalidImageDigest}, codes); diff != "" {
		t.Errorf("BatchGetImage failures (-want +got):\n%s", diff)
	}
	oci, err := e.c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("web"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("latest")}},
		AcceptedMediaTypes: []string{"application/vnd.oci.image.manifest.v1+json"}})
	if err != nil || len(oci.Images) != 0 || len(oci.Failures) != 1 {
		t.Errorf("BatchGetImage accepting only OCI: got %+v, %v, want one failure", oci, err)
	}

	d, err := e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	det := d.ImageDetails[0]
	gotDetail := []string{aws.ToString(det.ImageDigest), strings.Join(det.ImageTags, ","), fmt.Sprint(aws.ToInt64(det.ImageSizeInBytes)),
		aws.ToString(det.ImageManifestMediaType), aws.ToString(det.ArtifactMediaType), aws.ToString(det.RegistryId)}
	wantDetail := []string{img.digest, "latest", "5000", dockerManifest, dockerConfig, "000000000000"}
	if diff := cmp.Diff(wantDetail, gotDetail); diff != "" {
		t.Errorf("DescribeImages (-want +got):\n%s", diff)
	}
	if !det.ImagePushedAt.Equal(e.clock.Now().Add(-time.Minute)) {
		t.Errorf("imagePushedAt: got %v, want %v", det.ImagePushedAt, e.clock.Now().Add(-time.Minute))
	}
	if det.LastRecordedPullTime == nil || !det.LastRecordedPullTime.Equal(e.clock.Now()) {
		t.Errorf("lastRecordedPullTime: got %v, want %v", det.LastRecordedPullTime, e.clock.Now())
	}
}

func errorsAs[T any](err error, target *T) bool {
	for err != nil {
		if t, ok := err.(T); ok {
			*target = t
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestImagesListDescribeDelete(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("lib")
	repo := aws.String("lib")
	a, b, c := makeImage(randomBytes(10, 1)), makeImage(randomBytes(20, 2)), makeImage(randomBytes(30, 3))
	e.mustPush("lib", "a1", a)
	e.do(e.auth, "PUT", "/v2/lib/manifests/a2", a.manifest, "Content-Type", dockerManifest)
	e.mustPush("lib", "b1", b)
	e.mustPush("lib", c.digest, c)
	// Moving a tag leaves the old image untagged.
	e.mustPush("lib", "b1", c)

	list := func(status types.TagStatus) []string {
		var out []string
		p := ecr.NewListImagesPaginator(e.c, &ecr.ListImagesInput{RepositoryName: repo, Filter: &types.ListImagesFilter{TagStatus: status}, MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range page.ImageIds {
				out = append(out, aws.ToString(id.ImageDigest)[:13]+"/"+aws.ToString(id.ImageTag))
			}
		}
		sort.Strings(out)
		return out
	}
	short := func(d, tag string) string { return d[:13] + "/" + tag }
	want := []string{short(a.digest, "a1"), short(a.digest, "a2"), short(c.digest, "b1")}
	sort.Strings(want)
	if diff := cmp.Diff(want, list(types.TagStatusTagged)); diff != "" {
		t.Errorf("ListImages TAGGED (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{short(b.digest, "")}, list(types.TagStatusUntagged)); diff != "" {
		t.Errorf("ListImages UNTAGGED (-want +got):\n%s", diff)
	}
	if got := list(types.TagStatusAny); len(got) != 4 {
		t.Errorf("ListImages ANY: got %v, want 4 ids", got)
	}
	du, err := e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: repo, Filter: &types.DescribeImagesFilter{TagStatus: types.TagStatusUntagged}})
	if err != nil || len(du.ImageDetails) != 1 || aws.ToString(du.ImageDetails[0].ImageDigest) != b.digest || du.ImageDetails[0].ImageTags != nil {
		t.Errorf("DescribeImages UNTAGGED: got %+v, %v", du, err)
	}
	_, err = e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: repo, ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("zzz")}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ImageNotFoundException", Status: 400, Message: "The image with imageId {imageDigest:'null', imageTag:'zzz'} does not exist within the repository with name 'lib' in the registry with id '000000000000'"})

	// Tags list with pagination, as the registry serves it.
	r := e.do(e.auth, "GET", "/v2/lib/tags/list?n=2", nil)
	var tl struct {
		Name string
		Tags []string
	}
	json.Unmarshal(r.body, &tl)
	if r.status != 200 || tl.Name != "lib" || !slices.Equal(tl.Tags, []string{"a1", "a2"}) || r.header.Get("Link") != `</v2/lib/tags/list?last=a2&n=2>; rel="next"` {
		t.Errorf("tags page 1: got %d %+v Link %q", r.status, tl, r.header.Get("Link"))
	}
	r = e.do(e.auth, "GET", "/v2/lib/tags/list?n=2&last=a2", nil)
	json.Unmarshal(r.body, &tl)
	if !slices.Equal(tl.Tags, []string{"b1"}) || r.header.Get("Link") != "" {
		t.Errorf("tags page 2: got %+v Link %q", tl, r.header.Get("Link"))
	}

	// BatchDeleteImage: by tag removes the tag; the last tag takes the
	// image; by digest takes the image and its tags.
	del, err := e.c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: repo, ImageIds: []types.ImageIdentifier{
		{ImageTag: aws.String("a1")}, {ImageTag: aws.String("nope")}, {ImageDigest: aws.String(c.digest)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.ImageIds) != 2 || len(del.Failures) != 1 || del.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound ||
		aws.ToString(del.Failures[0].FailureReason) != "Requested image not found" {
		t.Errorf("BatchDeleteImage: got ids %+v failures %+v", del.ImageIds, del.Failures)
	}
	if r := e.do(e.auth, "GET", "/v2/lib/manifests/b1", nil); r.status != 404 || !strings.HasPrefix(r.code(), "MANIFEST_UNKNOWN") {
		t.Errorf("tag of an image deleted by digest: got %d %s", r.status, r.code())
	}
	if r := e.do(e.auth, "GET", "/v2/lib/manifests/a2", nil); r.status != 200 {
		t.Errorf("remaining tag: got %d", r.status)
	}
	if _, err := e.c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: repo, ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("a2")}}}); err != nil {
		t.Fatal(err)
	}
	if r := e.do(e.auth, "GET", "/v2/lib/manifests/"+a.digest, nil); r.status != 404 {
		t.Errorf("image whose last tag was deleted: got %d, want 404", r.status)
	}

	// An image an index lists cannot be deleted.
	x := makeImage(randomBytes(40, 4))
	e.mustPush("lib", "x", x)
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":%q,"digest":%q,"size":%d,"platform":{"os":"linux","architecture":"amd64"}}]}`,
		dockerManifest, x.digest, len(x.manifest))
	if r := e.do(e.auth, "PUT", "/v2/lib/manifests/multi", []byte(index), "Content-Type", "application/vnd.oci.image.index.v1+json"); r.status != 201 {
		t.Fatalf("index: got %d %s", r.status, r.code())
	}
	del, err = e.c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: repo, ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(x.digest)}}})
	if err != nil || len(del.Failures) != 1 || del.Failures[0].FailureCode != types.ImageFailureCodeImageReferencedByManifestList {
		t.Errorf("deleting an image an index lists: got %+v, %v", del, err)
	}
	multi, err := e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: repo, ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("multi")}}})
	if err != nil || aws.ToInt64(multi.ImageDetails[0].ImageSizeInBytes) != 40 || aws.ToString(multi.ImageDetails[0].ImageManifestMediaType) != "application/vnd.oci.image.index.v1+json" {
		t.Errorf("index detail: got %+v, %v", multi, err)
	}
}

func TestPutImageErrorsAndMutability(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("imm", func(in *ecr.CreateRepositoryInput) {
		in.ImageTagMutability = types.ImageTagMutabilityImmutableWithExclusion
		in.ImageTagMutabilityExclusionFilters = []types.ImageTagMutabilityExclusionFilter{{FilterType: "WILDCARD", Filter: aws.String("latest")}}
	})
	repo := aws.String("imm")
	one, two := makeImage(randomBytes(10, 1)), makeImage(randomBytes(20, 2))

	_, err := e.c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: repo, ImageManifest: aws.String(string(one.manifest)), ImageTag: aws.String("v1")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "LayersNotFoundException", Status: 400, Message: "required for pushing image into repository with name 'imm'"})

	e.mustPush("imm", "v1", one)
	e.mustPush("imm", "latest", one)
	_, err = e.c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: repo, ImageManifest: aws.String(string(one.manifest)), ImageTag: aws.String("v1")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ImageAlreadyExistsException", Status: 400, Message: "Image with digest '" + one.digest + "' and tag 'v1' already exists in the repository with name 'imm'"})

	// docker: the immutable tag cannot move, with ECR's message...
	r := e.push(e.auth, "imm", "v1", two)
	if r.status != 400 || r.code() != "TAG_INVALID: The image tag 'v1' already exists in the 'imm' repository and cannot be overwritten because the repository is immutable." {
		t.Errorf("overwriting an immutable tag: got %d %s", r.status, r.code())
	}
	// ...nor through the API.
	_, err = e.c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: repo, ImageManifest: aws.String(string(two.manifest)), ImageTag: aws.String("v1")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ImageTagAlreadyExistsException", Status: 400, Message: "The image tag 'v1' already exists in the 'imm' repository and cannot be overwritten because the repository is immutable."})
	// The excluded tag moves; the same push again is a no-op.
	e.mustPush("imm", "latest", two)
	e.mustPush("imm", "v1", one)
	if r := e.do(e.auth, "GET", "/v2/imm/manifests/latest", nil); r.header.Get("Docker-Content-Digest") != two.digest {
		t.Errorf("latest: got %s, want %s", r.header.Get("Docker-Content-Digest"), two.digest)
	}
	// After switching to MUTABLE, v1 moves.
	if _, err := e.c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: repo, ImageTagMutability: types.ImageTagMutabilityMutable}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: repo, ImageManifest: aws.String(string(two.manifest)), ImageTag: aws.String("v1")}); err != nil {
		t.Errorf("PutImage on a mutable tag: %v", err)
	}
	_, err = e.c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: repo, ImageManifest: aws.String(string(two.manifest)), ImageDigest: aws.String(one.digest)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ImageDigestDoesNotMatchException", Status: 400, Message: "does not match"})
	_, err = e.c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: repo, ImageManifest: aws.String("{not json")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "manifest invalid"})
	_, err = e.c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("nope"), ImageManifest: aws.String(string(two.manifest))})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "RepositoryNotFoundException", Status: 400, Message: "The repository with name 'nope' does not exist in the registry with id '000000000000'"})
}

func TestRegistryErrors(t *testing.T) {
	e := start(t)
	e.createRepo("errs")
	img := makeImage(randomBytes(64, 5))

	// ECR never creates a repository on push.
	r := e.do(e.auth, "POST", "/v2/missing/blobs/uploads/", nil)
	if r.status != 404 || r.code() != "NAME_UNKNOWN: The repository with name 'missing' does not exist in the registry with id '000000000000'" {
		t.Errorf("push to a missing repository: got %d %s", r.status, r.code())
	}
	if r := e.do(e.auth, "GET", "/v2/Bad_Name/tags/list", nil); r.status != 400 || !strings.HasPrefix(r.code(), "NAME_INVALID") {
		t.Errorf("invalid name: got %d %s", r.status, r.code())
	}

	// A blob whose digest does not match is refused and nothing stored.
	layer := img.layers[0]
	r = e.do(e.auth, "POST", "/v2/errs/blobs/uploads/?digest="+digestOf([]byte("other")), layer)
	if r.status != 400 || !strings.HasPrefix(r.code(), "DIGEST_INVALID") {
		t.Errorf("wrong digest: got %d %s, want 400 DIGEST_INVALID", r.status, r.code())
	}
	for _, d := range []string{digestOf([]byte("other")), digestOf(layer)} {
		if r := e.do(e.auth, "HEAD", "/v2/errs/blobs/"+d, nil); r.status != 404 {
			t.Errorf("HEAD %s after a refused upload: got %d, want 404", d, r.status)
		}
	}
	if r := e.do(e.auth, "GET", "/v2/errs/blobs/sha256:xyz", nil); r.status != 400 || !strings.HasPrefix(r.code(), "DIGEST_INVALID") {
		t.Errorf("malformed digest: got %d %s", r.status, r.code())
	}
	// A manifest naming blobs the repository does not have.
	r = e.do(e.auth, "PUT", "/v2/errs/manifests/v1", img.manifest, "Content-Type", dockerManifest)
	if r.status != 400 || !strings.HasPrefix(r.code(), "MANIFEST_BLOB_UNKNOWN") {
		t.Errorf("manifest with missing blobs: got %d %s", r.status, r.code())
	}
	r = e.do(e.auth, "PUT", "/v2/errs/manifests/v1", []byte(`{"schemaVersion":2`), "Content-Type", dockerManifest)
	if r.status != 400 || !strings.HasPrefix(r.code(), "MANIFEST_INVALID") {
		t.Errorf("malformed manifest: got %d %s", r.status, r.code())
	}
	r = e.do(e.auth, "PUT", "/v2/errs/manifests/"+digestOf([]byte("x")), img.manifest, "Content-Type", dockerManifest)
	if r.status != 400 || !strings.HasPrefix(r.code(), "DIGEST_INVALID") {
		t.Errorf("manifest under another digest: got %d %s", r.status, r.code())
	}
	if r := e.do(e.auth, "GET", "/v2/errs/manifests/v9", nil); r.status != 404 || !strings.HasPrefix(r.code(), "MANIFEST_UNKNOWN") {
		t.Errorf("missing tag: got %d %s", r.status, r.code())
	}
	if r := e.do(e.auth, "PATCH", "/v2/errs/blobs/uploads/nope", []byte("x")); r.status != 404 || !strings.HasPrefix(r.code(), "BLOB_UPLOAD_UNKNOWN") {
		t.Errorf("unknown upload: got %d %s", r.status, r.code())
	}
	var envelope map[string]any
	if err := json.Unmarshal(r.body, &envelope); err != nil || envelope["errors"] == nil {
		t.Errorf("error body %q is not the OCI envelope", r.body)
	}
	// Catalog.
	e.createRepo("errs2")
	r = e.do(e.auth, "GET", "/v2/_catalog?n=1", nil)
	if r.status != 200 || string(bytes.TrimSpace(r.body)) != `{"repositories":["errs"]}` || !strings.Contains(r.header.Get("Link"), "last=errs") {
		t.Errorf("catalog: got %d %s Link %q", r.status, r.body, r.header.Get("Link"))
	}
}

func TestScanning(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("scan", func(in *ecr.CreateRepositoryInput) {
		in.ImageScanningConfiguration = &types.ImageScanningConfiguration{ScanOnPush: true}
	})
	e.createRepo("manual")
	img := makeImage(randomBytes(10, 1))
	e.mustPush("scan", "v1", img)
	e.mustPush("manual", "v1", img)

	id := &types.ImageIdentifier{ImageTag: aws.String("v1")}
	f, err := e.c.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("scan"), ImageId: id})
	if err != nil {
		t.Fatal(err)
	}
	if f.ImageScanStatus.Status != types.ScanStatusComplete || len(f.ImageScanFindings.Findings) != 0 || !f.ImageScanFindings.ImageScanCompletedAt.Equal(e.clock.Now()) {
		t.Errorf("scan on push: got %+v %+v", f.ImageScanStatus, f.ImageScanFindings)
	}
	_, err = e.c.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("manual"), ImageId: id})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ScanNotFoundException", Status: 400, Message: "Image scan does not exist"})
	st, err := e.c.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("manual"), ImageId: id})
	if err != nil || aws.ToString(st.ImageId.ImageDigest) != img.digest {
		t.Fatalf("StartImageScan: got %+v, %v", st, err)
	}
	if f, err := e.c.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("manual"), ImageId: id}); err != nil || f.ImageScanStatus.Status != types.ScanStatusComplete {
		t.Errorf("after StartImageScan: got %+v, %v", f, err)
	}
	_, err = e.c.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("manual"), ImageId: id})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "LimitExceededException", Status: 400, Message: "scan quota"})
	d, err := e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("manual")})
	if err != nil || d.ImageDetails[0].ImageScanStatus == nil || d.ImageDetails[0].ImageScanStatus.Status != types.ScanStatusComplete {
		t.Errorf("DescribeImages scan status: got %+v, %v", d, err)
	}
}

func TestReferrersAndRegistrySettings(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("art", func(in *ecr.CreateRepositoryInput) {
		in.ImageScanningConfiguration = &types.ImageScanningConfiguration{ScanOnPush: true}
	})
	subject := makeImage(randomBytes(10, 1))
	e.mustPush("art", "v1", subject)
	empty := []byte("{}")
	e.pushBlob(e.auth, "art", empty)
	sbom := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/spdx+json",
		"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[],
		"subject":{"mediaType":%q,"digest":%q,"size":%d},"annotations":{"org.example":"sbom"}}`, digestOf(empty), dockerManifest, subject.digest, len(subject.manifest))
	r := e.do(e.auth, "PUT", "/v2/art/manifests/"+digestOf([]byte(sbom)), []byte(sbom), "Content-Type", "application/vnd.oci.image.manifest.v1+json")
	if r.status != 201 || r.header.Get("OCI-Subject") != subject.digest {
		t.Fatalf("artifact push: got %d %s, OCI-Subject %q", r.status, r.code(), r.header.Get("OCI-Subject"))
	}
	r = e.do(e.auth, "GET", "/v2/art/referrers/"+subject.digest+"?artifactType=application/spdx%2Bjson", nil)
	var idx struct {
		Manifests []struct{ Digest, ArtifactType string }
	}
	json.Unmarshal(r.body, &idx)
	if r.status != 200 || r.header.Get("OCI-Filters-Applied") != "artifactType" || len(idx.Manifests) != 1 || idx.Manifests[0].ArtifactType != "application/spdx+json" {
		t.Errorf("referrers: got %d %s %+v", r.status, r.header.Get("OCI-Filters-Applied"), idx)
	}
	refs, err := e.c.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String("art"), SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(subject.digest)}})
	if err != nil || len(refs.Referrers) != 1 || aws.ToString(refs.Referrers[0].Digest) != digestOf([]byte(sbom)) || refs.Referrers[0].Annotations["org.example"] != "sbom" {
		t.Errorf("ListImageReferrers: got %+v, %v", refs, err)
	}
	d, err := e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("art"), ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(digestOf([]byte(sbom)))}}})
	if err != nil || aws.ToString(d.ImageDetails[0].SubjectManifestDigest) != subject.digest || aws.ToString(d.ImageDetails[0].ArtifactMediaType) != "application/vnd.oci.empty.v1+json" {
		t.Errorf("artifact detail: got %+v, %v", d, err)
	}

	sc, err := e.c.BatchGetRepositoryScanningConfiguration(ctx, &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: []string{"art", "none"}})
	if err != nil || len(sc.ScanningConfigurations) != 1 || sc.ScanningConfigurations[0].ScanFrequency != types.ScanFrequencyScanOnPush || len(sc.Failures) != 1 {
		t.Errorf("BatchGetRepositoryScanningConfiguration: got %+v, %v", sc, err)
	}
	reg, err := e.c.DescribeRegistry(ctx, &ecr.DescribeRegistryInput{})
	if err != nil || aws.ToString(reg.RegistryId) != "000000000000" {
		t.Errorf("DescribeRegistry: got %+v, %v", reg, err)
	}
}

// TestCrossAccountPolicy: another account reaches a repository only as far
// as its repository policy allows, through the registry and the API.
func TestCrossAccountPolicy(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("shared")
	img := makeImage(randomBytes(128, 7))
	e.mustPush("shared", "v1", img)

	// Account B: a 12-digit access key is taken as the account.
	b := ecr.NewFromConfig(e.srv.ConfigWith("111111111111", "secret", ""))
	bAuth := e.basicAuth(b)
	qualified := "/v2/000000000000.dkr.ecr.us-east-1.amazonaws.com/shared"

	if r := e.do(bAuth, "GET", "/v2/shared/manifests/v1", nil); r.status != 404 || !strings.HasPrefix(r.code(), "NAME_UNKNOWN") {
		t.Errorf("B's own registry has no such repository: got %d %s", r.status, r.code())
	}
	if r := e.do(bAuth, "GET", qualified+"/manifests/v1", nil); r.status != 403 || !strings.HasPrefix(r.code(), "DENIED") {
		t.Errorf("B pulling A's repository without a policy: got %d %s, want 403 DENIED", r.status, r.code())
	}
	_, err := b.BatchGetImage(ctx, &ecr.BatchGetImageInput{RegistryId: aws.String("000000000000"), RepositoryName: aws.String("shared"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("B's BatchGetImage without a policy: got %v, want AccessDeniedException", err)
	}

	// Policies are validated.
	_, err = e.c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"), PolicyText: aws.String(`{"Statement":"nope"}`)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Invalid repository policy provided"})
	_, err = e.c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("shared")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "RepositoryPolicyNotFoundException", Status: 400, Message: "Repository policy does not exist for the repository with name 'shared'"})

	pull := `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},
		"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`
	if _, err := e.c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"), PolicyText: aws.String(pull)}); err != nil {
		t.Fatal(err)
	}
	if got, err := e.c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("shared")}); err != nil || aws.ToString(got.PolicyText) != pull {
		t.Errorf("GetRepositoryPolicy: got %+v, %v", got, err)
	}
	if r := e.do(bAuth, "GET", qualified+"/manifests/v1", nil); r.status != 200 || r.header.Get("Docker-Content-Digest") != img.digest {
		t.Errorf("B pulling with a pull policy: got %d %s", r.status, r.code())
	}
	if r := e.do(bAuth, "GET", qualified+"/blobs/"+digestOf(img.layers[0]), nil); r.status != 200 || len(r.body) != 128 {
		t.Errorf("B pulling a layer: got %d", r.status)
	}
	out, err := b.BatchGetImage(ctx, &ecr.BatchGetImageInput{RegistryId: aws.String("000000000000"), RepositoryName: aws.String("shared"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil || len(out.Images) != 1 {
		t.Errorf("B's BatchGetImage with a pull policy: got %+v, %v", out, err)
	}
	// Pulling is not pushing.
	other := makeImage(randomBytes(64, 8))
	if r := e.do(bAuth, "POST", qualified+"/blobs/uploads/", nil); r.status != 403 {
		t.Errorf("B starting an upload with a pull policy: got %d %s, want 403", r.status, r.code())
	}
	if r := e.do(bAuth, "DELETE", qualified+"/manifests/"+img.digest, nil); r.status != 403 {
		t.Errorf("B deleting with a pull policy: got %d, want 403", r.status)
	}

	push := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},
		"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:PutImage",
		"ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload"]}]}`
	if _, err := e.c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"), PolicyText: aws.String(push)}); err != nil {
		t.Fatal(err)
	}
	if r := e.push(bAuth, "000000000000.dkr.ecr.us-east-1.amazonaws.com/shared", "from-b", other); r.status != http.StatusCreated {
		t.Fatalf("B pushing with a push policy: got %d %s", r.status, r.code())
	}
	if r := e.do(e.auth, "GET", "/v2/shared/manifests/from-b", nil); r.status != 200 || r.header.Get("Docker-Content-Digest") != other.digest {
		t.Errorf("A sees B's push: got %d", r.status)
	}
	desc, err := b.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String("000000000000"), RepositoryNames: []string{"shared"}})
	if err == nil {
		t.Errorf("B describing A's repository without ecr:DescribeRepositories: got %+v", desc)
	}

	del, err := e.c.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("shared")})
	if err != nil || aws.ToString(del.PolicyText) != push {
		t.Errorf("DeleteRepositoryPolicy: got %+v, %v", del, err)
	}
	if r := e.do(bAuth, "GET", qualified+"/manifests/v1", nil); r.status != 403 {
		t.Errorf("B after the policy was deleted: got %d, want 403", r.status)
	}
	// The account's own requests never needed a policy.
	if r := e.do(e.auth, "GET", qualified+"/manifests/v1", nil); r.status != 200 {
		t.Errorf("A through the qualified name: got %d", r.status)
	}
}
