package s3

import (
	"context"
	"reflect"
	"strconv"
	"strings"

	api "overcast/internal/api/s3"
	"overcast/internal/authz"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// table is the IAM action each S3 operation needs and what it touches: S3's
// action names differ from its operations' more than any other service's
// (ListObjectsV2 needs s3:ListBucket, HeadObject s3:GetObject, every
// multipart step s3:PutObject, configuration deletes the Put action).
var table = authz.Table{Prefix: "s3", Rules: s3Rules()}

// onBucket are the operations on a bucket, by the action each needs.
var onBucket = map[string]string{
	"CreateBucket": "CreateBucket", "DeleteBucket": "DeleteBucket", "HeadBucket": "ListBucket",
	"ListObjects": "ListBucket", "ListObjectsV2": "ListBucket", "ListObjectVersions": "ListBucketVersions",
	"ListMultipartUploads": "ListBucketMultipartUploads", "GetBucketLocation": "GetBucketLocation",
	"GetBucketAcl": "GetBucketAcl", "PutBucketAcl": "PutBucketAcl",
	"GetBucketPolicy": "GetBucketPolicy", "PutBucketPolicy": "PutBucketPolicy", "DeleteBucketPolicy": "DeleteBucketPolicy",
	"GetBucketPolicyStatus": "GetBucketPolicyStatus",
	"GetBucketCors":         "GetBucketCORS", "PutBucketCors": "PutBucketCORS", "DeleteBucketCors": "PutBucketCORS",
	"GetBucketEncryption": "GetEncryptionConfiguration", "PutBucketEncryption": "PutEncryptionConfiguration",
	"DeleteBucketEncryption": "PutEncryptionConfiguration",
	"GetBucketLifecycle":     "GetLifecycleConfiguration", "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
	"PutBucketLifecycle": "PutLifecycleConfiguration", "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
	"DeleteBucketLifecycle": "PutLifecycleConfiguration",
	"GetBucketLogging":      "GetBucketLogging", "PutBucketLogging": "PutBucketLogging",
	"GetBucketNotification": "GetBucketNotification", "GetBucketNotificationConfiguration": "GetBucketNotification",
	"PutBucketNotification": "PutBucketNotification", "PutBucketNotificationConfiguration": "PutBucketNotification",
	"GetBucketOwnershipControls": "GetBucketOwnershipControls", "PutBucketOwnershipControls": "PutBucketOwnershipControls",
	"DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
	"GetBucketReplication":          "GetReplicationConfiguration", "PutBucketReplication": "PutReplicationConfiguration",
	"DeleteBucketReplication": "PutReplicationConfiguration",
	"GetBucketRequestPayment": "GetBucketRequestPayment", "PutBucketRequestPayment": "PutBucketRequestPayment",
	"GetBucketTagging": "GetBucketTagging", "PutBucketTagging": "PutBucketTagging", "DeleteBucketTagging": "PutBucketTagging",
	"GetBucketVersioning": "GetBucketVersioning", "PutBucketVersioning": "PutBucketVersioning",
	"GetBucketWebsite": "GetBucketWebsite", "PutBucketWebsite": "PutBucketWebsite", "DeleteBucketWebsite": "DeleteBucketWebsite",
	"GetBucketAccelerateConfiguration": "GetAccelerateConfiguration", "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
	"GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
	"DeletePublicAccessBlock":    "PutBucketPublicAccessBlock",
	"GetObjectLockConfiguration": "GetBucketObjectLockConfiguration", "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
	"GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration", "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
	"PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration", "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
	"GetBucketInventoryConfiguration": "GetInventoryConfiguration", "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
	"PutBucketInventoryConfiguration": "PutInventoryConfiguration", "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
	"GetBucketMetricsConfiguration": "GetMetricsConfiguration", "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
	"PutBucketMetricsConfiguration": "PutMetricsConfiguration", "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
	"GetBucketIntelligentTieringConfiguration":    "GetIntelligentTieringConfiguration",
	"ListBucketIntelligentTieringConfigurations":  "GetIntelligentTieringConfiguration",
	"PutBucketIntelligentTieringConfiguration":    "PutIntelligentTieringConfiguration",
	"DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
}

// onObject are the operations on an object, by the action each needs.
var onObject = map[string]string{
	"GetObject": "GetObject", "HeadObject": "GetObject", "SelectObjectContent": "GetObject",
	"PutObject": "PutObject", "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
	"CompleteMultipartUpload": "PutObject", "AbortMultipartUpload": "AbortMultipartUpload",
	"ListParts": "ListMultipartUploadParts", "DeleteObject": "DeleteObject",
	"GetObjectAcl": "GetObjectAcl", "PutObjectAcl": "PutObjectAcl", "GetObjectAttributes": "GetObjectAttributes",
	"GetObjectTagging": "GetObjectTagging", "PutObjectTagging": "PutObjectTagging", "DeleteObjectTagging": "DeleteObjectTagging",
	"GetObjectLegalHold": "GetObjectLegalHold", "PutObjectLegalHold": "PutObjectLegalHold",
	"GetObjectRetention": "GetObjectRetention", "PutObjectRetention": "PutObjectRetention",
	"GetObjectTorrent": "GetObjectTorrent", "RestoreObject": "RestoreObject",
}

func s3Rules() map[string]authz.Rule {
	rules := map[string]authz.Rule{
		"ListBuckets":            {Action: "ListAllMyBuckets"},
		"ListDirectoryBuckets":   {Action: "s3express:ListAllMyDirectoryBuckets"},
		"CreateSession":          {Action: "s3express:CreateSession", Resources: bucketResource},
		"WriteGetObjectResponse": {Action: "s3-object-lambda:WriteGetObjectResponse"},
		"DeleteObjects":          {Action: "DeleteObject", Resources: deletedObjects},
		// A browser POST upload writes its key (see post.go).
		"PostObject": {Action: "PutObject", Resources: objectResource, Context: aclKeys},
	}
	for op, action := range onBucket {
		rules[op] = authz.Rule{Action: action, Resources: bucketResource}
	}
	for op, action := range onObject {
		rules[op] = authz.Rule{Action: action, Resources: objectResource}
	}
	for _, op := range []string{"ListObjects", "ListObjectsV2", "ListObjectVersions"} {
		r := rules[op]
		r.Context = listingKeys
		rules[op] = r
	}
	for _, op := range []string{"PutObject", "CreateMultipartUpload", "PutObjectAcl", "CreateBucket", "PutBucketAcl"} {
		r := rules[op]
		r.Context = aclKeys
		rules[op] = r
	}
	// A copy writes its destination and reads its source.
	readSource := authz.Rule{Action: "GetObject", Resources: copySourceResource}
	for _, op := range []string{"CopyObject", "UploadPartCopy"} {
		rules[op] = authz.Rule{Action: "PutObject", Resources: objectResource, Also: []authz.Rule{readSource}}
	}
	return rules
}

func bucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

func bucketResource(_ context.Context, _ authz.Scope, in any) []string {
	if b := authz.StringField(in, "Bucket"); b != "" {
		return []string{bucketARN(b)}
	}
	return nil
}

func objectResource(_ context.Context, _ authz.Scope, in any) []string {
	if b := authz.StringField(in, "Bucket"); b != "" {
		return []string{bucketARN(b) + "/" + authz.StringField(in, "Key")}
	}
	return nil
}

func copySourceResource(_ context.Context, _ authz.Scope, in any) []string {
	cs, err := parseCopySource(authz.StringField(in, "CopySource"))
	if err != nil {
		return nil // the operation refuses it itself
	}
	return []string{bucketARN(cs.bucket) + "/" + cs.key}
}

// deletedObjects are the objects a DeleteObjects call names, each of
// which it must be allowed to delete.
func deletedObjects(_ context.Context, _ authz.Scope, in any) []string {
	d, ok := in.(*api.DeleteObjectsRequest)
	if !ok || d.Bucket == nil || d.Delete == nil {
		return nil
	}
	arns := make([]string, 0, len(d.Delete.Objects))
	for _, o := range d.Delete.Objects {
		if o.Key != nil {
			arns = append(arns, bucketARN(*d.Bucket)+"/"+*o.Key)
		}
	}
	return arns
}

// listingKeys are s3:prefix, s3:delimiter and s3:max-keys of a listing.
func listingKeys(_ authz.Scope, in any) map[string][]string {
	keys := map[string][]string{"s3:prefix": {authz.StringField(in, "Prefix")}}
	if d := authz.StringField(in, "Delimiter"); d != "" {
		keys["s3:delimiter"] = []string{d}
	}
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		if f := v.Elem().FieldByName("MaxKeys"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() {
			keys["s3:max-keys"] = []string{strconv.FormatInt(f.Elem().Int(), 10)}
		}
	}
	return keys
}

// aclKeys is s3:x-amz-acl, the canned ACL a write sets.
func aclKeys(_ authz.Scope, in any) map[string][]string {
	if acl := authz.StringField(in, "ACL"); acl != "" {
		return map[string][]string{"s3:x-amz-acl": {acl}}
	}
	return nil
}

var _ authz.SelfEnforcing = (*Service)(nil)

// EnforcesResourcePolicies: S3 applies its bucket policies itself (an
// explicit Deny, another account's need of an Allow), in every mode.
func (s *Service) EnforcesResourcePolicies() bool { return true }

// ResourceOf describes the bucket an S3 ARN names (its objects share its
// owner and policy), for authorization.
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:s3:::")
	if !ok {
		return authz.Resource{}, nil
	}
	name, _, _ := strings.Cut(rest, "/")
	var b *bucketRecord
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		b, err = s.getBucket(tx, name)
		return err
	})
	if _, missing := awsproto.AsAPIError(err); missing {
		return authz.Resource{}, nil // no such bucket: the operation says so
	}
	if err != nil {
		return authz.Resource{}, err
	}
	res := authz.Resource{Owner: b.Owner}
	if b.Policy != "" {
		res.Policy = &authz.Policy{ID: name, Type: "resource", Doc: parsedPolicy(b), Text: b.Policy}
	}
	return res, nil
}
