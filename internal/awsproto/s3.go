package awsproto

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"reflect"
)

// S3 customizations. The botocore model of S3 leaves out a few things its
// clients know by heart; like the SDKs' own customizations
// (service/s3/internal/customizations), they live here by name rather than
// in the generated code.
//
//   - Errors are <Error><Code/><Message/>...<RequestId/><HostId/></Error>
//     with no ErrorResponse wrapper (botocore's noErrorWrapping), and extra
//     elements such as BucketName or Key (Error.Fields).
//   - Every response carries x-amz-id-2, the HostId.
//   - Response documents have root elements the model does not name:
//     ListBucketResult rather than ListObjectsV2Output.
//   - GetBucketLocation's result is the bare <LocationConstraint> element.
//   - Several operations share a request template; the superseded ones
//     lose ties (see route.requiredScore for the rest).

// isS3 reports whether svc is S3, whose wire format has the quirks above.
func isS3(svc *Service) bool { return svc != nil && svc.ID == "s3" }

// HostID is the x-amz-id-2 (HostId) of the request reqID: opaque, like
// AWS's, and stable for one request.
func HostID(reqID string) string {
	sum := sha256.Sum256([]byte("overcast-host-id/" + reqID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// supersededOperations are, per service, operations that share their HTTP
// binding with a newer one the clients of today call.
var supersededOperations = map[string]map[string]bool{
	"s3": {
		"GetBucketNotification": true, // GetBucketNotificationConfiguration
		"PutBucketNotification": true, // PutBucketNotificationConfiguration
		"GetBucketLifecycle":    true, // GetBucketLifecycleConfiguration
		"PutBucketLifecycle":    true, // PutBucketLifecycleConfiguration
		"ListDirectoryBuckets":  true, // ListBuckets: directory buckets live elsewhere
	},
}

// s3RootElements names the root element of S3 responses by output shape.
var s3RootElements = map[string]string{
	"ListBucketsOutput":                                "ListAllMyBucketsResult",
	"ListObjectsOutput":                                "ListBucketResult",
	"ListObjectsV2Output":                              "ListBucketResult",
	"ListObjectVersionsOutput":                         "ListVersionsResult",
	"ListMultipartUploadsOutput":                       "ListMultipartUploadsResult",
	"ListPartsOutput":                                  "ListPartsResult",
	"CreateMultipartUploadOutput":                      "InitiateMultipartUploadResult",
	"CompleteMultipartUploadOutput":                    "CompleteMultipartUploadResult",
	"DeleteObjectsOutput":                              "DeleteResult",
	"GetObjectTaggingOutput":                           "Tagging",
	"GetBucketTaggingOutput":                           "Tagging",
	"GetBucketVersioningOutput":                        "VersioningConfiguration",
	"GetBucketCorsOutput":                              "CORSConfiguration",
	"GetBucketWebsiteOutput":                           "WebsiteConfiguration",
	"GetBucketAclOutput":                               "AccessControlPolicy",
	"GetObjectAclOutput":                               "AccessControlPolicy",
	"GetBucketAccelerateConfigurationOutput":           "AccelerateConfiguration",
	"GetBucketRequestPaymentOutput":                    "RequestPaymentConfiguration",
	"GetBucketLoggingOutput":                           "BucketLoggingStatus",
	"GetBucketLifecycleConfigurationOutput":            "LifecycleConfiguration",
	"GetObjectAttributesOutput":                        "GetObjectAttributesResponse",
	"ListBucketAnalyticsConfigurationsOutput":          "ListBucketAnalyticsConfigurationResult",
	"ListBucketInventoryConfigurationsOutput":          "ListInventoryConfigurationsResult",
	"ListBucketMetricsConfigurationsOutput":            "ListMetricsConfigurationsResult",
	"ListBucketIntelligentTieringConfigurationsOutput": "ListBucketIntelligentTieringConfigurationsOutput",
}

// rootElement is the name of the document element of a REST XML response.
func rootElement(svc *Service, t *typeInfo) string {
	if isS3(svc) {
		if name, ok := s3RootElements[t.shapeName]; ok {
			return name
		}
	}
	return orDefault(t.locName, t.shapeName)
}

// Field is an extra element of an S3 error body, after Message.
type Field struct{ Name, Value string }

// writeS3Error writes S3's unwrapped error document.
func writeS3Error(x *xmlWriter, e APIError, t *typeInfo, v reflect.Value, reqID string) {
	x.b = append(x.b, `<?xml version="1.0" encoding="UTF-8"?>`...)
	x.open("Error", XMLNamespace{}, nil)
	x.element("Code", e.ErrorCode())
	x.element("Message", e.ErrorMessage())
	if t != nil {
		x.structMembers(withoutMessage(t), v, responseBody)
	}
	if ae, ok := e.(*Error); ok {
		for _, f := range ae.Fields {
			x.element(f.Name, f.Value)
		}
	}
	x.element("RequestId", reqID)
	x.element("HostId", HostID(reqID))
	x.close("Error")
}

// responseMeta is what an operation may add to its response beyond the
// modeled output: S3's 206 for ranges, headers no model declares.
type responseMeta struct {
	header http.Header
	status int
}

type responseMetaKey struct{}

func withResponseMeta(ctx context.Context, m *responseMeta) context.Context {
	return context.WithValue(ctx, responseMetaKey{}, m)
}

// ResponseHeader returns the header of the response the operation serving
// ctx will send, for headers its model does not declare (CORS, for one).
// It returns a throwaway header outside a request.
func ResponseHeader(ctx context.Context) http.Header {
	if m, ok := ctx.Value(responseMetaKey{}).(*responseMeta); ok {
		return m.header
	}
	return http.Header{}
}

// SetResponseStatus overrides the success status of the operation serving
// ctx: S3's GetObject answers a range with 206 though its model says 200.
func SetResponseStatus(ctx context.Context, status int) {
	if m, ok := ctx.Value(responseMetaKey{}).(*responseMeta); ok {
		m.status = status
	}
}
