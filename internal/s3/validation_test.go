package s3_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"overcast/internal/awstest"
)

func TestLifecycleValidation(t *testing.T) {
	_, c := start(t)
	createBucket(t, c, "rules")
	days := func(n int32) *types.LifecycleExpiration { return &types.LifecycleExpiration{Days: aws.Int32(n)} }
	all := &types.LifecycleRuleFilter{}
	tagged := &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}
	malformed := awstest.APIError{Code: "MalformedXML", Status: http.StatusBadRequest}
	tests := []struct {
		name  string
		rules []types.LifecycleRule
		want  awstest.APIError // zero: accepted
	}{
		{"expiration by days", []types.LifecycleRule{{ID: aws.String("a"), Status: "Enabled", Filter: all, Expiration: days(1)}}, awstest.APIError{}},
		{"legacy prefix", []types.LifecycleRule{{Status: "Enabled", Prefix: aws.String("logs/"), Expiration: days(1)}}, awstest.APIError{}},
		{"every action", []types.LifecycleRule{{Status: "Disabled", Filter: &types.LifecycleRuleFilter{Prefix: aws.String("p/")},
			Expiration:                     &types.LifecycleExpiration{Date: aws.Time(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))},
			Transitions:                    []types.Transition{{Days: aws.Int32(30), StorageClass: types.TransitionStorageClassStandardIa}},
			NoncurrentVersionExpiration:    &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(3)},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(7)}}}, awstest.APIError{}},
		{"bad status", []types.LifecycleRule{{Status: "On", Filter: all, Expiration: days(1)}}, malformed},
		{"no filter", []types.LifecycleRule{{Status: "Enabled", Expiration: days(1)}}, malformed},
		{"prefix and filter", []types.LifecycleRule{{Status: "Enabled", Prefix: aws.String("a"), Filter: all, Expiration: days(1)}}, malformed},
		{"two conditions outside And", []types.LifecycleRule{{Status: "Enabled", Expiration: days(1),
			Filter: &types.LifecycleRuleFilter{Prefix: aws.String("a"), ObjectSizeGreaterThan: aws.Int64(1)}}}, malformed},
		{"days and date", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1), Date: aws.Time(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))}}}, malformed},
		{"no action", []types.LifecycleRule{{Status: "Enabled", Filter: all}},
			awstest.APIError{Code: "InvalidRequest", Message: "At least one action needs to be specified in a rule"}},
		{"zero days", []types.LifecycleRule{{Status: "Enabled", Filter: all, Expiration: days(0)}},
			awstest.APIError{Code: "InvalidArgument", Message: "'Days' for Expiration action must be a positive integer"}},
		{"date not at midnight", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			Expiration: &types.LifecycleExpiration{Date: aws.Time(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))}}},
			awstest.APIError{Code: "InvalidArgument", Message: "'Date' must be at midnight GMT"}},
		{"duplicate IDs", []types.LifecycleRule{{ID: aws.String("x"), Status: "Enabled", Filter: all, Expiration: days(1)},
			{ID: aws.String("x"), Status: "Enabled", Filter: all, Expiration: days(2)}},
			awstest.APIError{Code: "InvalidArgument", Message: "Rule ID must be unique. Found same ID for more than one rule"}},
		{"long ID", []types.LifecycleRule{{ID: aws.String(strings.Repeat("i", 256)), Status: "Enabled", Filter: all, Expiration: days(1)}},
			awstest.APIError{Code: "InvalidArgument", Message: "ID length should not exceed allowed limit of 255"}},
		{"zero noncurrent days", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(0)}}},
			awstest.APIError{Code: "InvalidArgument", Message: "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"}},
		{"zero days after initiation", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(0)}}},
			awstest.APIError{Code: "InvalidArgument", Message: "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"}},
		{"abort with tags", []types.LifecycleRule{{Status: "Enabled", Filter: tagged,
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}}},
			awstest.APIError{Code: "InvalidRequest", Message: "AbortIncompleteMultipartUpload cannot be specified with Tags."}},
		{"delete markers with tags", []types.LifecycleRule{{Status: "Enabled", Filter: tagged,
			Expiration: &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}}},
			awstest.APIError{Code: "InvalidRequest", Message: "ExpiredObjectDeleteMarker cannot be specified with Tags."}},
		{"transition to IA too soon", []types.LifecycleRule{{Status: "Enabled", Filter: all,
			Transitions: []types.Transition{{Days: aws.Int32(7), StorageClass: types.TransitionStorageClassStandardIa}}}},
			awstest.APIError{Code: "InvalidArgument", Message: "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'"}},
	}
	for _, tt := range tests {
		_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("rules"),
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: tt.rules}})
		wantOutcome(t, tt.name, err, tt.want)
	}
	// The bucket is looked for before the configuration.
	_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("no-such-bucket"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{Status: "On"}}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "NoSuchBucket"})
}

func TestEncryptionValidation(t *testing.T) {
	_, c := start(t)
	createBucket(t, c, "sse")
	rule := func(alg types.ServerSideEncryption, key *string) types.ServerSideEncryptionRule {
		return types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: alg, KMSMasterKeyID: key}}
	}
	malformed := awstest.APIError{Code: "MalformedXML", Status: http.StatusBadRequest}
	tests := []struct {
		name  string
		rules []types.ServerSideEncryptionRule
		want  awstest.APIError // zero: accepted
	}{
		{"SSE-S3", []types.ServerSideEncryptionRule{rule(types.ServerSideEncryptionAes256, nil)}, awstest.APIError{}},
		{"SSE-KMS with a key", []types.ServerSideEncryptionRule{rule(types.ServerSideEncryptionAwsKms, aws.String("alias/k"))}, awstest.APIError{}},
		{"two rules", []types.ServerSideEncryptionRule{rule("AES256", nil), rule("AES256", nil)}, malformed},
		{"no default", []types.ServerSideEncryptionRule{{BucketKeyEnabled: aws.Bool(true)}}, malformed},
		{"unknown algorithm", []types.ServerSideEncryptionRule{rule("AES512", nil)}, malformed},
		{"SSE-S3 with a KMS key", []types.ServerSideEncryptionRule{rule(types.ServerSideEncryptionAes256, aws.String("alias/k"))},
			awstest.APIError{Code: "InvalidArgument", Status: http.StatusBadRequest,
				Message: "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"}},
	}
	for _, tt := range tests {
		_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("sse"),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: tt.rules}})
		wantOutcome(t, tt.name, err, tt.want)
	}
	out, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("sse")})
	if err != nil || out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAwsKms {
		t.Errorf("GetBucketEncryption: got %v, %v; want the last accepted (aws:kms)", out, err)
	}
}
