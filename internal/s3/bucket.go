package s3

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"overcast"
	api "overcast/internal/api/s3"
	"overcast/internal/policy"
	"overcast/internal/store"
)

// canonicalID is the 64-hex-digit canonical user ID S3 shows for an
// account.
func canonicalID(account string) string {
	sum := sha256.Sum256([]byte("overcast-canonical/" + account))
	return hex.EncodeToString(sum[:])
}

func ownerOf(account string) *api.Owner {
	return &api.Owner{ID: new(canonicalID(account)), DisplayName: new("owner-" + account)}
}

func (s *Service) CreateBucket(ctx context.Context, in *api.CreateBucketRequest) (*api.CreateBucketOutput, error) {
	name := *in.Bucket
	if !validBucketName(name) {
		return nil, errInvalidBucketName(name)
	}
	caller := overcast.CallerFrom(ctx)
	if caller.Kind == overcast.PrincipalAnonymous {
		return nil, errAccessDenied()
	}
	region := caller.Region
	if region == "" {
		region = overcast.DefaultRegion
	}
	constraint := ""
	if in.CreateBucketConfiguration != nil {
		constraint = deref(in.CreateBucketConfiguration.LocationConstraint)
	}
	switch {
	case constraint == "us-east-1":
		return nil, s3err(http.StatusBadRequest, "InvalidLocationConstraint", "The specified location-constraint is not valid",
			"LocationConstraint", constraint)
	case constraint == "" && region != "us-east-1":
		return nil, s3err(http.StatusBadRequest, "IllegalLocationConstraintException",
			"The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case constraint != "" && region != "us-east-1" && constraint != region && constraint != "EU":
		return nil, s3err(http.StatusBadRequest, "IllegalLocationConstraintException",
			fmt.Sprintf("The %s location constraint is incompatible for the region specific endpoint this request was sent to.", constraint))
	case constraint == "EU":
		constraint = "eu-west-1"
	}
	if constraint != "" {
		region = constraint
	}
	var tags []tag
	if in.CreateBucketConfiguration != nil {
		for _, t := range in.CreateBucketConfiguration.Tags {
			tags = append(tags, tag{Key: deref(t.Key), Value: deref(t.Value)})
		}
		if err := validateTags(tags, 50); err != nil {
			return nil, err
		}
	}
	rec := &bucketRecord{Name: name, Owner: caller.AccountID, Region: region, Created: s.Now().UTC(),
		ObjectLock: in.ObjectLockEnabledForBucket != nil && *in.ObjectLockEnabledForBucket,
		Ownership:  deref(in.ObjectOwnership), Tags: tags}
	if rec.ObjectLock {
		rec.Versioning = "Enabled"
	}
	err := s.update(ctx, func(tx store.Tx, c *change) error {
		existing, err := s.getBucket(tx, name)
		if err == nil {
			if existing.Owner == caller.AccountID {
				// For legacy compatibility S3 answers 200 OK when you
				// re-create a bucket you own in us-east-1 (the error's
				// documentation says so); everywhere else it is a 409.
				if region == "us-east-1" && existing.Region == "us-east-1" {
					return nil
				}
				return s3err(http.StatusConflict, "BucketAlreadyOwnedByYou",
					"Your previous request to create the named bucket succeeded and you already own it.", "BucketName", name)
			}
			return s3err(http.StatusConflict, "BucketAlreadyExists",
				"The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
				"BucketName", name)
		}
		if !isCode(err, "NoSuchBucket") {
			return err
		}
		_, err = store.PutJSON(tx, tableBucket, name, rec, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateBucketOutput{Location: new("/" + name), BucketArn: new(rec.arn())}, nil
}

func (s *Service) DeleteBucket(ctx context.Context, in *api.DeleteBucketRequest) error {
	name := *in.Bucket
	defer func() {
		s.bucketsMu.Lock()
		delete(s.buckets, name)
		s.bucketsMu.Unlock()
	}()
	return s.update(ctx, func(tx store.Tx, c *change) error {
		b, err := s.getBucket(tx, name)
		if err != nil {
			return err
		}
		if err := ownerOnly(ctx, b, "s3:DeleteBucket"); err != nil {
			return err
		}
		n, err := tx.Count(tableObject, name+sep)
		if err != nil {
			return err
		}
		if n > 0 {
			return s3err(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty", "BucketName", name)
		}
		// Incomplete multipart uploads go with the bucket.
		var uploads []uploadRecord
		if err := store.ScanJSON(tx, tableUpload, store.ScanOptions{Prefix: name + sep}, func(_ string, u uploadRecord, _ int64) error {
			uploads = append(uploads, u)
			return nil
		}); err != nil {
			return err
		}
		for _, u := range uploads {
			if err := s.dropUpload(tx, c, &u); err != nil {
				return err
			}
		}
		return tx.Delete(tableBucket, name, store.AnyVersion)
	})
}

func (s *Service) HeadBucket(ctx context.Context, in *api.HeadBucketRequest) (*api.HeadBucketOutput, error) {
	b, err := s.lookupBucket(ctx, *in.Bucket)
	if err != nil {
		return nil, err
	}
	if err := authorize(ctx, b, "s3:ListBucket", "", nil); err != nil {
		return nil, err
	}
	return &api.HeadBucketOutput{BucketRegion: new(b.Region), BucketArn: new(b.arn()), AccessPointAlias: new(false)}, nil
}

func (s *Service) ListBuckets(ctx context.Context, in *api.ListBucketsRequest) (*api.ListBucketsOutput, error) {
	caller := overcast.CallerFrom(ctx)
	if caller.Kind == overcast.PrincipalAnonymous {
		return nil, errAccessDenied()
	}
	max := 10000
	if in.MaxBuckets != nil {
		if *in.MaxBuckets < 1 || *in.MaxBuckets > 10000 {
			return nil, errInvalidArgument("Argument max-buckets must be an integer between 1 and 10000", "max-buckets", fmt.Sprint(*in.MaxBuckets))
		}
		max = int(*in.MaxBuckets)
	}
	after := ""
	if in.ContinuationToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.ContinuationToken)
		if err != nil {
			return nil, errInvalidArgument("The continuation token provided is incorrect", "continuation-token", *in.ContinuationToken)
		}
		after = string(b)
	}
	prefix := deref(in.Prefix)
	out := &api.ListBucketsOutput{Owner: ownerOf(caller.AccountID), Prefix: in.Prefix}
	err := s.view(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, tableBucket, store.ScanOptions{Prefix: prefix, After: after}, func(_ string, b bucketRecord, _ int64) error {
			if b.Owner != caller.AccountID || (in.BucketRegion != nil && *in.BucketRegion != b.Region) {
				return nil
			}
			if len(out.Buckets) == max {
				out.ContinuationToken = new(base64.RawURLEncoding.EncodeToString([]byte(*out.Buckets[max-1].Name)))
				return store.ErrStop
			}
			out.Buckets = append(out.Buckets, api.Bucket{Name: new(b.Name), CreationDate: new(b.Created),
				BucketRegion: new(b.Region), BucketArn: new(b.arn())})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if out.Buckets == nil {
		out.Buckets = api.Buckets{}
	}
	return out, nil
}

func (s *Service) GetBucketLocation(ctx context.Context, in *api.GetBucketLocationRequest) (*api.GetBucketLocationOutput, error) {
	b, err := s.lookupBucket(ctx, *in.Bucket)
	if err != nil {
		return nil, err
	}
	if err := ownerOnly(ctx, b, "s3:GetBucketLocation"); err != nil {
		return nil, err
	}
	out := &api.GetBucketLocationOutput{}
	if b.Region != "us-east-1" {
		out.LocationConstraint = new(b.Region)
	}
	return out, nil
}

// ownedBucket reads a bucket for a read of its configuration, which only
// its owner may make.
func (s *Service) ownedBucket(ctx context.Context, name, action string) (*bucketRecord, error) {
	b, err := s.lookupBucket(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := ownerOnly(ctx, b, action); err != nil {
		return nil, err
	}
	return b, nil
}

// bucketView answers a Get of a bucket's settings, which only its owner
// may read, with what view makes of the bucket.
func bucketView[O any](ctx context.Context, s *Service, bucket, action string, view func(b *bucketRecord) *O) (*O, error) {
	b, err := s.ownedBucket(ctx, bucket, action)
	if err != nil {
		return nil, err
	}
	return view(b), nil
}

// bucketPart reads one optional part of a bucket's configuration: get
// returns it and whether the bucket has it. A bucket without it is S3's
// 404 with code and msg.
func bucketPart[T any](ctx context.Context, s *Service, bucket, action, code, msg string, get func(b *bucketRecord) (T, bool)) (T, error) {
	var none T
	b, err := s.ownedBucket(ctx, bucket, action)
	if err != nil {
		return none, err
	}
	part, ok := get(b)
	if !ok {
		return none, errNoSuchConfig(code, msg, b.Name)
	}
	return part, nil
}

// changeBucket runs a read-modify-write of a bucket's configuration.
func (s *Service) changeBucket(ctx context.Context, name, action string, fn func(b *bucketRecord) error) error {
	return s.update(ctx, func(tx store.Tx, c *change) error {
		b, err := getBucketCopy(tx, name)
		if err != nil {
			return err
		}
		if err := ownerOnly(ctx, b, action); err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, tableBucket, name, b, store.AnyVersion)
		return err
	})
}

// setBucket is changeBucket for a change that cannot fail.
func (s *Service) setBucket(ctx context.Context, name, action string, set func(b *bucketRecord)) error {
	return s.changeBucket(ctx, name, action, func(b *bucketRecord) error {
		set(b)
		return nil
	})
}

func (s *Service) PutBucketVersioning(ctx context.Context, in *api.PutBucketVersioningRequest) error {
	cfg := in.VersioningConfiguration
	if cfg == nil {
		return errMalformedXML()
	}
	status := deref(cfg.Status)
	if status != "Enabled" && status != "Suspended" {
		return errMalformedXML()
	}
	return s.changeBucket(ctx, *in.Bucket, "s3:PutBucketVersioning", func(b *bucketRecord) error {
		if b.ObjectLock && status == "Suspended" {
			return s3err(http.StatusConflict, "InvalidBucketState",
				"An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.", "BucketName", b.Name)
		}
		if b.Replication != nil && status == "Suspended" {
			return errReplicationVersioning(b.Name)
		}
		b.Versioning = status
		if cfg.MFADelete != nil {
			b.MFADelete = *cfg.MFADelete
		}
		return nil
	})
}

func (s *Service) GetBucketVersioning(ctx context.Context, in *api.GetBucketVersioningRequest) (*api.GetBucketVersioningOutput, error) {
	return bucketView(ctx, s, *in.Bucket, "s3:GetBucketVersioning", func(b *bucketRecord) *api.GetBucketVersioningOutput {
		return &api.GetBucketVersioningOutput{Status: nonEmpty(b.Versioning), MFADelete: nonEmpty(b.MFADelete)}
	})
}

func tagsFrom(set api.TagSet) []tag {
	tags := make([]tag, 0, len(set))
	for _, t := range set {
		tags = append(tags, tag{Key: deref(t.Key), Value: deref(t.Value)})
	}
	return tags
}

func tagSet(tags []tag) api.TagSet {
	set := api.TagSet{}
	for _, t := range tags {
		set = append(set, api.Tag{Key: new(t.Key), Value: new(t.Value)})
	}
	return set
}

func (s *Service) PutBucketTagging(ctx context.Context, in *api.PutBucketTaggingRequest) error {
	if in.Tagging == nil {
		return errMalformedXML()
	}
	tags := tagsFrom(in.Tagging.TagSet)
	if err := validateTags(tags, 50); err != nil {
		return err
	}
	return s.setBucket(ctx, *in.Bucket, "s3:PutBucketTagging", func(b *bucketRecord) { b.Tags = tags })
}

func (s *Service) GetBucketTagging(ctx context.Context, in *api.GetBucketTaggingRequest) (*api.GetBucketTaggingOutput, error) {
	tags, err := bucketPart(ctx, s, *in.Bucket, "s3:GetBucketTagging", "NoSuchTagSet", "The TagSet does not exist",
		func(b *bucketRecord) (api.TagSet, bool) { return tagSet(b.Tags), len(b.Tags) > 0 })
	return &api.GetBucketTaggingOutput{TagSet: tags}, err
}

func (s *Service) DeleteBucketTagging(ctx context.Context, in *api.DeleteBucketTaggingRequest) error {
	return s.setBucket(ctx, *in.Bucket, "s3:PutBucketTagging", func(b *bucketRecord) { b.Tags = nil })
}

func (s *Service) PutBucketPolicy(ctx context.Context, in *api.PutBucketPolicyRequest) error {
	doc := deref(in.Policy)
	p, err := checkBucketPolicy(doc, *in.Bucket)
	if err != nil {
		return err
	}
	return s.changeBucket(ctx, *in.Bucket, "s3:PutBucketPolicy", func(b *bucketRecord) error {
		if pabBlocksPolicy(b) && p.Public() {
			return s3err(http.StatusForbidden, "AccessDenied",
				"User is not authorized to perform: s3:PutBucketPolicy on resource because public policies are blocked by the BlockPublicPolicy block public access setting.")
		}
		b.Policy = doc
		return nil
	})
}

func (s *Service) GetBucketPolicy(ctx context.Context, in *api.GetBucketPolicyRequest) (*api.GetBucketPolicyOutput, error) {
	doc, err := bucketPart(ctx, s, *in.Bucket, "s3:GetBucketPolicy", "NoSuchBucketPolicy", "The bucket policy does not exist",
		func(b *bucketRecord) (*string, bool) { return new(b.Policy), b.Policy != "" })
	return &api.GetBucketPolicyOutput{Policy: doc}, err
}

func (s *Service) DeleteBucketPolicy(ctx context.Context, in *api.DeleteBucketPolicyRequest) error {
	return s.setBucket(ctx, *in.Bucket, "s3:DeleteBucketPolicy", func(b *bucketRecord) { b.Policy = "" })
}

func (s *Service) GetBucketPolicyStatus(ctx context.Context, in *api.GetBucketPolicyStatusRequest) (*api.GetBucketPolicyStatusOutput, error) {
	p, err := bucketPart(ctx, s, *in.Bucket, "s3:GetBucketPolicyStatus", "NoSuchBucketPolicy", "The bucket policy does not exist",
		func(b *bucketRecord) (*policy.Document, bool) {
			p := parsedPolicy(b)
			return p, p != nil
		})
	if err != nil {
		return &api.GetBucketPolicyStatusOutput{}, err
	}
	return &api.GetBucketPolicyStatusOutput{PolicyStatus: &api.PolicyStatus{IsPublic: new(p.Public())}}, nil
}

func (s *Service) PutPublicAccessBlock(ctx context.Context, in *api.PutPublicAccessBlockRequest) error {
	cfg := in.PublicAccessBlockConfiguration
	if cfg == nil {
		return errMalformedXML()
	}
	norm := &api.PublicAccessBlockConfiguration{
		BlockPublicAcls: new(isTrue(cfg.BlockPublicAcls)), IgnorePublicAcls: new(isTrue(cfg.IgnorePublicAcls)),
		BlockPublicPolicy: new(isTrue(cfg.BlockPublicPolicy)), RestrictPublicBuckets: new(isTrue(cfg.RestrictPublicBuckets)),
	}
	return s.setBucket(ctx, *in.Bucket, "s3:PutBucketPublicAccessBlock", func(b *bucketRecord) { b.PublicAccessBlock = norm })
}

func isTrue(p *bool) bool { return p != nil && *p }

func (s *Service) GetPublicAccessBlock(ctx context.Context, in *api.GetPublicAccessBlockRequest) (*api.GetPublicAccessBlockOutput, error) {
	cfg, err := bucketPart(ctx, s, *in.Bucket, "s3:GetBucketPublicAccessBlock",
		"NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found",
		func(b *bucketRecord) (*api.PublicAccessBlockConfiguration, bool) {
			return b.PublicAccessBlock, b.PublicAccessBlock != nil
		})
	return &api.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: cfg}, err
}

func (s *Service) DeletePublicAccessBlock(ctx context.Context, in *api.DeletePublicAccessBlockRequest) error {
	return s.setBucket(ctx, *in.Bucket, "s3:PutBucketPublicAccessBlock", func(b *bucketRecord) { b.PublicAccessBlock = nil })
}

var corsMethods = map[string]bool{"GET": true, "PUT": true, "POST": true, "DELETE": true, "HEAD": true}

func (s *Service) PutBucketCors(ctx context.Context, in *api.PutBucketCorsRequest) error {
	if in.CORSConfiguration == nil || len(in.CORSConfiguration.CORSRules) == 0 {
		return errMalformedXML()
	}
	rules := in.CORSConfiguration.CORSRules
	if len(rules) > 100 {
		return errInvalidRequest("The number of CORS rules should not exceed allowed limit of 100 rules.")
	}
	for _, r := range rules {
		if len(r.AllowedMethods) == 0 || len(r.AllowedOrigins) == 0 {
			return errMalformedXML()
		}
		for _, m := range r.AllowedMethods {
			if !corsMethods[m] {
				return errInvalidRequest("Found unsupported HTTP method in CORS config. Unsupported method is " + m)
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return errInvalidRequest(`AllowedOrigin "` + o + `" can not have more than one wildcard.`)
			}
		}
		for _, h := range r.AllowedHeaders {
			if strings.Count(h, "*") > 1 {
				return errInvalidRequest(`AllowedHeader "` + h + `" can not have more than one wildcard.`)
			}
		}
	}
	return s.setBucket(ctx, *in.Bucket, "s3:PutBucketCORS", func(b *bucketRecord) { b.CORS = rules })
}

func (s *Service) GetBucketCors(ctx context.Context, in *api.GetBucketCorsRequest) (*api.GetBucketCorsOutput, error) {
	rules, err := bucketPart(ctx, s, *in.Bucket, "s3:GetBucketCORS", "NoSuchCORSConfiguration", "The CORS configuration does not exist",
		func(b *bucketRecord) ([]api.CORSRule, bool) { return b.CORS, len(b.CORS) > 0 })
	return &api.GetBucketCorsOutput{CORSRules: rules}, err
}

func (s *Service) DeleteBucketCors(ctx context.Context, in *api.DeleteBucketCorsRequest) error {
	return s.setBucket(ctx, *in.Bucket, "s3:PutBucketCORS", func(b *bucketRecord) { b.CORS = nil })
}

func (s *Service) PutBucketWebsite(ctx context.Context, in *api.PutBucketWebsiteRequest) error {
	if err := validateWebsite(in.WebsiteConfiguration); err != nil {
		return err
	}
	return s.setBucket(ctx, *in.Bucket, "s3:PutBucketWebsite", func(b *bucketRecord) { b.Website = in.WebsiteConfiguration })
}

func validateWebsite(cfg *api.WebsiteConfiguration) error {
	if cfg == nil {
		return errMalformedXML()
	}
	if r := cfg.RedirectAllRequestsTo; r != nil {
		if cfg.IndexDocument != nil || cfg.ErrorDocument != nil || len(cfg.RoutingRules) > 0 {
			return errInvalidArgument("RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.", "RedirectAllRequestsTo", "not null")
		}
		if deref(r.HostName) == "" {
			return errInvalidArgument("A host name must be provided for RedirectAllRequestsTo", "HostName", "")
		}
		if p := deref(r.Protocol); p != "" && p != "http" && p != "https" {
			return errInvalidArgument("Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.", "Protocol", p)
		}
		return nil
	}
	if cfg.IndexDocument == nil || deref(cfg.IndexDocument.Suffix) == "" {
		return errInvalidArgument("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty", "IndexDocument", "null")
	}
	if strings.Contains(*cfg.IndexDocument.Suffix, "/") {
		return errInvalidArgument("The IndexDocument Suffix is not well formed", "IndexDocument", *cfg.IndexDocument.Suffix)
	}
	if cfg.ErrorDocument != nil && deref(cfg.ErrorDocument.Key) == "" {
		return errInvalidArgument("The ErrorDocument Key is not well formed", "ErrorDocument", "")
	}
	for _, rule := range cfg.RoutingRules {
		r := rule.Redirect
		if r == nil {
			return errMalformedXML()
		}
		if r.ReplaceKeyWith != nil && r.ReplaceKeyPrefixWith != nil {
			return errInvalidArgument("You can only define ReplaceKeyPrefix or ReplaceKey but not both.", "Redirect", "")
		}
		if c := deref(r.HttpRedirectCode); c != "" && (len(c) != 3 || c[0] != '3') {
			return errInvalidArgument("The provided HTTP redirect code ("+c+") is not valid. Valid codes are 3XX except 300.", "HttpRedirectCode", c)
		}
		if p := deref(r.Protocol); p != "" && p != "http" && p != "https" {
			return errInvalidArgument("Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.", "Protocol", p)
		}
		if rule.Condition != nil {
			if code := deref(rule.Condition.HttpErrorCodeReturnedEquals); code != "" && (len(code) != 3 || (code[0] != '4' && code[0] != '5')) {
				return errInvalidArgument("The provided HTTP error code ("+code+") is not valid. Valid codes are 4XX or 5XX.", "HttpErrorCodeReturnedEquals", code)
			}
		}
	}
	return nil
}

func (s *Service) GetBucketWebsite(ctx context.Context, in *api.GetBucketWebsiteRequest) (*api.GetBucketWebsiteOutput, error) {
	w, err := bucketPart(ctx, s, *in.Bucket, "s3:GetBucketWebsite",
		"NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration",
		func(b *bucketRecord) (*api.WebsiteConfiguration, bool) { return b.Website, b.Website != nil })
	if err != nil {
		return &api.GetBucketWebsiteOutput{}, err
	}
	return &api.GetBucketWebsiteOutput{RedirectAllRequestsTo: w.RedirectAllRequestsTo, IndexDocument: w.IndexDocument,
		ErrorDocument: w.ErrorDocument, RoutingRules: w.RoutingRules}, nil
}

func (s *Service) DeleteBucketWebsite(ctx context.Context, in *api.DeleteBucketWebsiteRequest) error {
	return s.setBucket(ctx, *in.Bucket, "s3:DeleteBucketWebsite", func(b *bucketRecord) { b.Website = nil })
}

func (s *Service) PutBucketNotificationConfiguration(ctx context.Context, in *api.PutBucketNotificationConfigurationRequest) error {
	cfg := in.NotificationConfiguration
	if cfg == nil {
		cfg = &api.NotificationConfiguration{}
	}
	if err := validateNotification(cfg, s.IDs); err != nil {
		return err
	}
	return s.setBucket(ctx, *in.Bucket, "s3:PutBucketNotification", func(b *bucketRecord) { b.Notification = cfg })
}

func (s *Service) GetBucketNotificationConfiguration(ctx context.Context, in *api.GetBucketNotificationConfigurationRequest) (*api.NotificationConfiguration, error) {
	return bucketView(ctx, s, *in.Bucket, "s3:GetBucketNotification", func(b *bucketRecord) *api.NotificationConfiguration {
		if b.Notification == nil {
			return &api.NotificationConfiguration{}
		}
		return b.Notification
	})
}

func (s *Service) GetBucketAcl(ctx context.Context, in *api.GetBucketAclRequest) (*api.GetBucketAclOutput, error) {
	return bucketView(ctx, s, *in.Bucket, "s3:GetBucketAcl", func(b *bucketRecord) *api.GetBucketAclOutput {
		return &api.GetBucketAclOutput{Owner: ownerOf(b.Owner), Grants: ownerGrants(b.Owner)}
	})
}

// ownerGrants is the ACL of every bucket and object: ACLs are disabled
// (BucketOwnerEnforced), as on new AWS buckets; access is by policy.
func ownerGrants(account string) api.Grants {
	return api.Grants{{Grantee: &api.Grantee{ID: new(canonicalID(account)), DisplayName: new("owner-" + account),
		Type: new("CanonicalUser")}, Permission: new("FULL_CONTROL")}}
}

func (s *Service) PutBucketAcl(ctx context.Context, in *api.PutBucketAclRequest) error {
	_, err := s.ownedBucket(ctx, *in.Bucket, "s3:PutBucketAcl")
	return err
}

func (s *Service) GetBucketEncryption(ctx context.Context, in *api.GetBucketEncryptionRequest) (*api.GetBucketEncryptionOutput, error) {
	return bucketView(ctx, s, *in.Bucket, "s3:GetEncryptionConfiguration", func(b *bucketRecord) *api.GetBucketEncryptionOutput {
		cfg := b.Encryption
		if cfg == nil {
			// Every bucket encrypts with SSE-S3 unless told otherwise.
			cfg = &api.ServerSideEncryptionConfiguration{Rules: api.ServerSideEncryptionRules{{
				ApplyServerSideEncryptionByDefault: &api.ServerSideEncryptionByDefault{SSEAlgorithm: new("AES256")},
				BucketKeyEnabled:                   new(false)}}}
		}
		return &api.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: cfg}
	})
}

func (s *Service) PutBucketEncryption(ctx context.Context, in *api.PutBucketEncryptionRequest) error {
	return s.changeBucket(ctx, *in.Bucket, "s3:PutEncryptionConfiguration", func(b *bucketRecord) error {
		if err := validateEncryption(in.ServerSideEncryptionConfiguration); err != nil {
			return err
		}
		b.Encryption = in.ServerSideEncryptionConfiguration
		return nil
	})
}

func (s *Service) DeleteBucketEncryption(ctx context.Context, in *api.DeleteBucketEncryptionRequest) error {
	return s.setBucket(ctx, *in.Bucket, "s3:PutEncryptionConfiguration", func(b *bucketRecord) { b.Encryption = nil })
}

func (s *Service) GetBucketOwnershipControls(ctx context.Context, in *api.GetBucketOwnershipControlsRequest) (*api.GetBucketOwnershipControlsOutput, error) {
	return bucketView(ctx, s, *in.Bucket, "s3:GetBucketOwnershipControls", func(b *bucketRecord) *api.GetBucketOwnershipControlsOutput {
		o := b.Ownership
		if o == "" {
			o = "BucketOwnerEnforced"
		}
		return &api.GetBucketOwnershipControlsOutput{
			OwnershipControls: &api.OwnershipControls{Rules: api.OwnershipControlsRules{{ObjectOwnership: new(o)}}}}
	})
}

func (s *Service) PutBucketLifecycleConfiguration(ctx context.Context, in *api.PutBucketLifecycleConfigurationRequest) (*api.PutBucketLifecycleConfigurationOutput, error) {
	err := s.changeBucket(ctx, *in.Bucket, "s3:PutLifecycleConfiguration", func(b *bucketRecord) error {
		if err := validateLifecycle(in.LifecycleConfiguration); err != nil {
			return err
		}
		b.Lifecycle = in.LifecycleConfiguration
		return nil
	})
	if err == nil {
		s.lifecycle.Enqueue(*in.Bucket)
	}
	return &api.PutBucketLifecycleConfigurationOutput{}, err
}

func (s *Service) GetBucketLifecycleConfiguration(ctx context.Context, in *api.GetBucketLifecycleConfigurationRequest) (*api.GetBucketLifecycleConfigurationOutput, error) {
	cfg, err := bucketPart(ctx, s, *in.Bucket, "s3:GetLifecycleConfiguration", "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist",
		func(b *bucketRecord) (*api.BucketLifecycleConfiguration, bool) {
			return b.Lifecycle, b.Lifecycle != nil
		})
	if err != nil {
		return &api.GetBucketLifecycleConfigurationOutput{}, err
	}
	return &api.GetBucketLifecycleConfigurationOutput{Rules: cfg.Rules}, nil
}

func (s *Service) DeleteBucketLifecycle(ctx context.Context, in *api.DeleteBucketLifecycleRequest) error {
	return s.setBucket(ctx, *in.Bucket, "s3:PutLifecycleConfiguration", func(b *bucketRecord) { b.Lifecycle = nil })
}

func (s *Service) GetBucketAccelerateConfiguration(ctx context.Context, in *api.GetBucketAccelerateConfigurationRequest) (*api.GetBucketAccelerateConfigurationOutput, error) {
	return bucketView(ctx, s, *in.Bucket, "s3:GetAccelerateConfiguration", func(b *bucketRecord) *api.GetBucketAccelerateConfigurationOutput {
		return &api.GetBucketAccelerateConfigurationOutput{Status: nonEmpty(b.Accelerate)}
	})
}

func (s *Service) GetBucketRequestPayment(ctx context.Context, in *api.GetBucketRequestPaymentRequest) (*api.GetBucketRequestPaymentOutput, error) {
	return bucketView(ctx, s, *in.Bucket, "s3:GetBucketRequestPayment", func(b *bucketRecord) *api.GetBucketRequestPaymentOutput {
		return &api.GetBucketRequestPaymentOutput{Payer: new(cmp.Or(b.RequestPayer, "BucketOwner"))}
	})
}

func (s *Service) GetBucketLogging(ctx context.Context, in *api.GetBucketLoggingRequest) (*api.GetBucketLoggingOutput, error) {
	if _, err := s.ownedBucket(ctx, *in.Bucket, "s3:GetBucketLogging"); err != nil {
		return nil, err
	}
	return &api.GetBucketLoggingOutput{}, nil
}

// objectForTagging finds the version a tagging operation addresses.
func (s *Service) objectForTagging(ctx context.Context, tx store.Tx, bucket, key, versionID, action string) (*bucketRecord, *objectRecord, error) {
	if versionID != "" {
		action += "Version"
	}
	return s.objectVersion(ctx, tx, bucket, key, versionID, action)
}

// objectVersion finds the version a subresource operation (tags, ACL,
// retention, legal hold) addresses, when the caller may perform action
// on it.
func (s *Service) objectVersion(ctx context.Context, tx store.Tx, bucket, key, versionID, action string) (*bucketRecord, *objectRecord, error) {
	b, err := s.authorizedBucket(ctx, tx, bucket, action, key, nil)
	if err != nil {
		return nil, nil, err
	}
	if versionID != "" {
		o, err := findVersion(tx, bucket, key, versionID)
		if err != nil {
			return nil, nil, err
		}
		if o == nil {
			return nil, nil, errNoSuchVersion(key, versionID)
		}
		if o.DeleteMarker {
			return nil, nil, errMethodNotAllowed("GET", "DeleteMarker")
		}
		return b, o, nil
	}
	o, err := latestVersion(tx, bucket, key)
	if err != nil {
		return nil, nil, err
	}
	if o == nil || o.DeleteMarker {
		return nil, nil, errNoSuchKey(key)
	}
	return b, o, nil
}

// objectView answers a read of a subresource (tagging, ACL) of the
// object version versionID names with what view makes of it.
func objectView[O any](ctx context.Context, s *Service, bucket, key string, versionID *string, action string,
	view func(b *bucketRecord, o *objectRecord) *O) (*O, error) {
	var out *O
	err := s.view(ctx, func(tx store.Tx) error {
		b, o, err := s.objectForTagging(ctx, tx, bucket, key, deref(versionID), action)
		if err != nil {
			return err
		}
		out = view(b, o)
		return nil
	})
	return out, err
}

func (s *Service) GetObjectTagging(ctx context.Context, in *api.GetObjectTaggingRequest) (*api.GetObjectTaggingOutput, error) {
	return objectView(ctx, s, *in.Bucket, *in.Key, in.VersionId, "s3:GetObjectTagging", func(b *bucketRecord, o *objectRecord) *api.GetObjectTaggingOutput {
		out := &api.GetObjectTaggingOutput{TagSet: tagSet(o.Tags)}
		if b.versioned() {
			out.VersionId = new(o.VersionID)
		}
		return out
	})
}

// retag replaces the tags of one version in place.
func (s *Service) retag(ctx context.Context, bucket, key, versionID, action string, tags []tag) (string, error) {
	var vid string
	err := s.update(ctx, func(tx store.Tx, c *change) error {
		b, o, err := s.objectForTagging(ctx, tx, bucket, key, versionID, action)
		if err != nil {
			return err
		}
		o.Tags = tags
		if _, err := store.PutJSON(tx, tableObject, objectKey(bucket, key, o.Seq), o, store.AnyVersion); err != nil {
			return err
		}
		if b.versioned() {
			vid = o.VersionID
		}
		return nil
	})
	return vid, err
}

func (s *Service) PutObjectTagging(ctx context.Context, in *api.PutObjectTaggingRequest) (*api.PutObjectTaggingOutput, error) {
	if in.Tagging == nil {
		return nil, errMalformedXML()
	}
	tags := tagsFrom(in.Tagging.TagSet)
	if err := validateTags(tags, 10); err != nil {
		return nil, err
	}
	vid, err := s.retag(ctx, *in.Bucket, *in.Key, deref(in.VersionId), "s3:PutObjectTagging", tags)
	if err != nil {
		return nil, err
	}
	return &api.PutObjectTaggingOutput{VersionId: nonEmpty(vid)}, nil
}

func (s *Service) DeleteObjectTagging(ctx context.Context, in *api.DeleteObjectTaggingRequest) (*api.DeleteObjectTaggingOutput, error) {
	vid, err := s.retag(ctx, *in.Bucket, *in.Key, deref(in.VersionId), "s3:DeleteObjectTagging", nil)
	if err != nil {
		return nil, err
	}
	return &api.DeleteObjectTaggingOutput{VersionId: nonEmpty(vid)}, nil
}

func (s *Service) GetObjectAcl(ctx context.Context, in *api.GetObjectAclRequest) (*api.GetObjectAclOutput, error) {
	return objectView(ctx, s, *in.Bucket, *in.Key, in.VersionId, "s3:GetObjectAcl", func(b *bucketRecord, _ *objectRecord) *api.GetObjectAclOutput {
		return &api.GetObjectAclOutput{Owner: ownerOf(b.Owner), Grants: ownerGrants(b.Owner)}
	})
}

// PutObjectAcl checks that the object is there and that the caller may
// change it, and keeps nothing: ACLs are disabled.
func (s *Service) PutObjectAcl(ctx context.Context, in *api.PutObjectAclRequest) (*api.PutObjectAclOutput, error) {
	return objectView(ctx, s, *in.Bucket, *in.Key, in.VersionId, "s3:PutObjectAcl", func(*bucketRecord, *objectRecord) *api.PutObjectAclOutput {
		return &api.PutObjectAclOutput{}
	})
}
