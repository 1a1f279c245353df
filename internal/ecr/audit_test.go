package ecr_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ct "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/google/go-cmp/cmp"
)

// TestRegistryCallsAreRecorded: pushes and pulls through the registry show
// in CloudTrail as the ECR calls AWS's registry makes of them, by the
// token's caller, with what they asked, answered or failed with.
func TestRegistryCallsAreRecorded(t *testing.T) {
	e := start(t)
	e.createRepo("audited")
	img := makeImage(randomBytes(100, 1))
	e.mustPush("audited", "v1", img)
	if r := e.do(e.auth, "GET", "/v2/audited/manifests/v1", nil, "Accept", dockerManifest); r.status != http.StatusOK {
		t.Fatalf("GET manifest: %d %s", r.status, r.code())
	}
	if r := e.do(e.auth, "GET", "/v2/audited/blobs/"+digestOf(img.layers[0]), nil); r.status != http.StatusOK && r.status != http.StatusTemporaryRedirect {
		t.Fatalf("GET blob: %d %s", r.status, r.code())
	}
	if r := e.do(e.auth, "GET", "/v2/audited/manifests/missing", nil); r.status != http.StatusNotFound {
		t.Fatalf("GET a missing manifest: %d %s", r.status, r.code())
	}
	e.do(e.auth, "GET", "/v2/", nil) // the version check stands for no call

	out, err := ct.NewFromConfig(e.srv.Config()).LookupEvents(context.Background(), &ct.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String("ecr.amazonaws.com")}}})
	if err != nil {
		t.Fatal(err)
	}
	type record struct {
		EventName    string `json:"eventName"`
		UserIdentity struct {
			Type string `json:"type"`
		} `json:"userIdentity"`
		ErrorCode         string          `json:"errorCode"`
		ReadOnly          bool            `json:"readOnly"`
		RequestParameters json.RawMessage `json:"requestParameters"`
		ResponseElements  json.RawMessage `json:"responseElements"`
	}
	var records []record
	var names []string
	for _, ev := range out.Events {
		var r record
		if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &r); err != nil {
			t.Fatal(err)
		}
		records = append(records, r)
		names = append(names, r.EventName)
	}
	slices.Reverse(records) // oldest first
	slices.Reverse(names)
	want := []string{"GetAuthorizationToken", "CreateRepository",
		"InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload", // the config
		"InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload", // the layer
		"PutImage", "BatchGetImage", "GetDownloadUrlForLayer", "BatchGetImage"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("ECR events, oldest first (-want +got):\n%s", diff)
	}
	type fields struct {
		Identity, Error string
		ReadOnly        bool
		Request, Answer map[string]any
	}
	view := func(r record) fields {
		f := fields{Identity: r.UserIdentity.Type, Error: r.ErrorCode, ReadOnly: r.ReadOnly}
		json.Unmarshal(r.RequestParameters, &f.Request)
		json.Unmarshal(r.ResponseElements, &f.Answer)
		return f
	}
	for _, c := range []struct {
		index int
		want  fields
	}{
		{8, fields{Identity: "Root", Request: map[string]any{"registryId": "000000000000", "repositoryName": "audited", "imageTag": "v1",
			"imageManifest": string(img.manifest), "imageManifestMediaType": dockerManifest},
			Answer: map[string]any{"image": map[string]any{"registryId": "000000000000", "repositoryName": "audited",
				"imageId": map[string]any{"imageDigest": img.digest, "imageTag": "v1"}, "imageManifest": string(img.manifest),
				"imageManifestMediaType": dockerManifest}}}},
		{9, fields{Identity: "Root", ReadOnly: true, Request: map[string]any{"registryId": "000000000000", "repositoryName": "audited",
			"imageIds": []any{map[string]any{"imageTag": "v1"}}, "acceptedMediaTypes": []any{dockerManifest}}}},
		{10, fields{Identity: "Root", ReadOnly: true, Request: map[string]any{"registryId": "000000000000", "repositoryName": "audited",
			"layerDigest": digestOf(img.layers[0])}}},
		{11, fields{Identity: "Root", ReadOnly: true, Error: "ImageNotFoundException", Request: map[string]any{"registryId": "000000000000",
			"repositoryName": "audited", "imageIds": []any{map[string]any{"imageTag": "missing"}}}}},
	} {
		if diff := cmp.Diff(c.want, view(records[c.index])); diff != "" {
			t.Errorf("%s event (-want +got):\n%s", names[c.index], diff)
		}
	}
}
