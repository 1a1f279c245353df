package cloudtrail

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/cloudtrail"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// trailsTable holds trails, keyed by account/home region/name.
const trailsTable = "cloudtrail.trails"

// maxTrails is AWS's limit of trails per region.
const maxTrails = 5

// updateAttempts bounds the retries of a trail update that lost a race.
const updateAttempts = 8

// servicePrincipal is who CloudTrail is to the buckets it writes to.
const servicePrincipal = "cloudtrail.amazonaws.com"

// trail is a stored trail: its configuration, its logging state and how
// far it has delivered.
type trail struct {
	Name                       string                     `json:"name"`
	ARN                        string                     `json:"arn"`
	Account                    string                     `json:"account"`
	HomeRegion                 string                     `json:"homeRegion"`
	S3BucketName               string                     `json:"s3BucketName"`
	S3KeyPrefix                string                     `json:"s3KeyPrefix,omitempty"`
	SnsTopicName               string                     `json:"snsTopicName,omitempty"`
	IncludeGlobalServiceEvents bool                       `json:"includeGlobalServiceEvents"`
	IsMultiRegionTrail         bool                       `json:"isMultiRegionTrail"`
	LogFileValidationEnabled   bool                       `json:"logFileValidationEnabled"`
	CloudWatchLogsLogGroupArn  string                     `json:"cloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      string                     `json:"cloudWatchLogsRoleArn,omitempty"`
	KmsKeyID                   string                     `json:"kmsKeyId,omitempty"`
	EventSelectors             api.EventSelectors         `json:"eventSelectors,omitempty"`
	AdvancedEventSelectors     api.AdvancedEventSelectors `json:"advancedEventSelectors,omitempty"`
	Tags                       []tag                      `json:"tags,omitempty"`

	Logging          bool      `json:"logging"`
	StartLoggingTime time.Time `json:"startLoggingTime,omitzero"`
	StopLoggingTime  time.Time `json:"stopLoggingTime,omitzero"`
	// Cursors are, by region, the key (after the region's prefix) of the
	// last event delivery looked at; StartCursor stands for regions
	// without one: the moment logging started.
	Cursors     map[string]string `json:"cursors,omitempty"`
	StartCursor string            `json:"startCursor,omitempty"`

	LatestDeliveryTime        time.Time `json:"latestDeliveryTime,omitzero"`
	LatestDeliveryAttemptTime time.Time `json:"latestDeliveryAttemptTime,omitzero"`
	LatestDeliveryError       string    `json:"latestDeliveryError,omitempty"`
	LatestLogsDeliveryTime    time.Time `json:"latestLogsDeliveryTime,omitzero"`
	LatestLogsDeliveryError   string    `json:"latestLogsDeliveryError,omitempty"`
}

type tag struct {
	Key   string  `json:"key"`
	Value *string `json:"value,omitempty"`
}

// trailRef is where a trail named by name or ARN lives.
type trailRef struct {
	scope overcast.Scope
	name  string
}

func (r trailRef) key() string { return r.scope.Key(r.name) }
func (r trailRef) arn() string { return r.scope.ARN("cloudtrail", "trail/"+r.name) }

// refOf resolves a trail's name or ARN in the caller's scope.
func refOf(ctx context.Context, nameOrARN string) (trailRef, error) {
	scope := overcast.ScopeOf(ctx)
	if strings.HasPrefix(nameOrARN, "arn:") {
		a, ok := overcast.ParseARN(nameOrARN)
		name, isTrail := strings.CutPrefix(a.Resource, "trail/")
		if !ok || a.Service != "cloudtrail" || !isTrail || name == "" {
			return trailRef{}, ctError("CloudTrailARNInvalidException", "Invalid ARN: %s", nameOrARN)
		}
		if a.AccountID != scope.Account {
			return trailRef{}, trailNotFound(nameOrARN, scope.Account)
		}
		return trailRef{scope: overcast.Scope{Account: a.AccountID, Region: a.Region}, name: name}, nil
	}
	if err := checkTrailName(nameOrARN); err != nil {
		return trailRef{}, err
	}
	return trailRef{scope: scope, name: nameOrARN}, nil
}

// checkTrailName holds a name to AWS's rules for trail names.
func checkTrailName(name string) error {
	invalid := func(format string, args ...any) error {
		return ctError("InvalidTrailNameException", format, args...)
	}
	switch {
	case len(name) < 3:
		return invalid("Trail name too short. Minimum allowed length: 3 characters. Specified name length: %d characters.", len(name))
	case len(name) > 128:
		return invalid("Trail name too long. Maximum allowed length: 128 characters. Specified name length: %d characters.", len(name))
	case !isAlnum(name[0]) || !isAlnum(name[len(name)-1]):
		return invalid("Trail name must starts with a letter or number and end with a letter or number.")
	case net.ParseIP(name) != nil:
		return invalid("Trail name must not be formatted as an IP address.")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return invalid("Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).")
		}
		if i > 0 && !isAlnum(c) && !isAlnum(name[i-1]) {
			return invalid("Trail name must not contain adjacent periods, underscores or dashes.")
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (s *Service) getTrail(ctx context.Context, ref trailRef) (trail, error) {
	var t trail
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, trailsTable, ref.key(), &t)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return trail{}, trailNotFound(ref.arn(), ref.scope.Account)
	}
	return t, err
}

// trailNamed is the trail a name or ARN names.
func (s *Service) trailNamed(ctx context.Context, nameOrARN string) (trail, error) {
	ref, err := refOf(ctx, nameOrARN)
	if err != nil {
		return trail{}, err
	}
	return s.getTrail(ctx, ref)
}

// updateTrail changes the trail nameOrARN names with fn.
func (s *Service) updateTrail(ctx context.Context, nameOrARN string, fn func(*trail) error) (trail, error) {
	ref, err := refOf(ctx, nameOrARN)
	if err != nil {
		return trail{}, err
	}
	var t trail
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		t = trail{}
		version, err := store.GetJSON(tx, trailsTable, ref.key(), &t)
		if errors.Is(err, store.ErrNotFound) {
			return trailNotFound(ref.arn(), ref.scope.Account)
		}
		if err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, trailsTable, ref.key(), &t, version)
		return err
	})
	return t, err
}

// checkBucket is the check AWS makes of a trail's bucket: it must exist
// and its policy must let CloudTrail check its ACL.
func (s *Service) checkBucket(ctx context.Context, trailARN, bucket string) error {
	if s.objects == nil {
		return nil
	}
	err := s.objects.GetBucketAcl(ctx, servicePrincipal, trailARN, bucket)
	if e, ok := awsproto.AsAPIError(err); ok {
		switch e.ErrorCode() {
		case "NoSuchBucket":
			return ctError("S3BucketDoesNotExistException", "S3 bucket does not exist: %s", bucket)
		case "AccessDenied":
			return ctError("InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: %s", bucket)
		}
	}
	return err
}

// checkLogGroup holds a trail's CloudWatch Logs settings to AWS's rules:
// a log group ARN needs a role to write with, and the reverse.
func checkLogGroup(groupARN, roleARN string) error {
	if groupARN == "" && roleARN == "" {
		return nil
	}
	if groupARN == "" || roleARN == "" {
		return ctError("InvalidCloudWatchLogsLogGroupArnException", "You must specify a log group ARN and a role ARN.")
	}
	if a, ok := overcast.ParseARN(groupARN); !ok || a.Service != "logs" || !strings.HasPrefix(a.Resource, "log-group:") {
		return ctError("InvalidCloudWatchLogsLogGroupArnException", "CloudWatch Logs log group ARN is invalid: %s", groupARN)
	}
	if a, ok := overcast.ParseARN(roleARN); !ok || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return ctError("InvalidCloudWatchLogsRoleArnException", "CloudWatch Logs role ARN is invalid: %s", roleARN)
	}
	return nil
}

// CreateTrail creates a trail; it logs once StartLogging is called.
func (s *Service) CreateTrail(ctx context.Context, in *api.CreateTrailRequest) (*api.CreateTrailResponse, error) {
	if err := checkTrailName(*in.Name); err != nil {
		return nil, err
	}
	ref := trailRef{scope: overcast.ScopeOf(ctx), name: *in.Name}
	t := trail{Name: ref.name, ARN: ref.arn(), Account: ref.scope.Account, HomeRegion: ref.scope.Region,
		S3BucketName: *in.S3BucketName, S3KeyPrefix: deref(in.S3KeyPrefix), SnsTopicName: deref(in.SnsTopicName),
		IncludeGlobalServiceEvents: in.IncludeGlobalServiceEvents == nil || *in.IncludeGlobalServiceEvents,
		IsMultiRegionTrail:         deref(in.IsMultiRegionTrail), LogFileValidationEnabled: deref(in.EnableLogFileValidation),
		CloudWatchLogsLogGroupArn: deref(in.CloudWatchLogsLogGroupArn), CloudWatchLogsRoleArn: deref(in.CloudWatchLogsRoleArn),
		KmsKeyID: deref(in.KmsKeyId)}
	if deref(in.IsOrganizationTrail) {
		return nil, ctError("OrganizationsNotInUseException", "This account is not a member of an organization.")
	}
	if err := checkLogGroup(t.CloudWatchLogsLogGroupArn, t.CloudWatchLogsRoleArn); err != nil {
		return nil, err
	}
	tags, err := addTags(nil, in.TagsList)
	if err != nil {
		return nil, err
	}
	t.Tags = tags
	if err := s.checkBucket(ctx, t.ARN, t.S3BucketName); err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(trailsTable, ref.key()); err == nil {
			return ctError("TrailAlreadyExistsException", "Trail %s already exists for customer: %s", ref.name, ref.scope.Account)
		}
		n, err := tx.Count(trailsTable, ref.scope.Prefix())
		if err != nil {
			return err
		}
		if n >= maxTrails {
			return ctError("MaximumNumberOfTrailsExceededException", "User: %s already has %d trails in %s.", ref.scope.Account, n, ref.scope.Region)
		}
		_, err = store.PutJSON(tx, trailsTable, ref.key(), &t, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.changedTrails(ctx)
	return &api.CreateTrailResponse{Name: &t.Name, S3BucketName: &t.S3BucketName, S3KeyPrefix: in.S3KeyPrefix,
		SnsTopicName: in.SnsTopicName, IncludeGlobalServiceEvents: &t.IncludeGlobalServiceEvents, IsMultiRegionTrail: &t.IsMultiRegionTrail,
		TrailARN: &t.ARN, LogFileValidationEnabled: &t.LogFileValidationEnabled, CloudWatchLogsLogGroupArn: in.CloudWatchLogsLogGroupArn,
		CloudWatchLogsRoleArn: in.CloudWatchLogsRoleArn, KmsKeyId: in.KmsKeyId, IsOrganizationTrail: new(false)}, nil
}

// UpdateTrail changes the settings a request names.
func (s *Service) UpdateTrail(ctx context.Context, in *api.UpdateTrailRequest) (*api.UpdateTrailResponse, error) {
	if deref(in.IsOrganizationTrail) {
		return nil, ctError("OrganizationsNotInUseException", "This account is not a member of an organization.")
	}
	if in.S3BucketName != nil {
		ref, err := refOf(ctx, *in.Name)
		if err != nil {
			return nil, err
		}
		if err := s.checkBucket(ctx, ref.arn(), *in.S3BucketName); err != nil {
			return nil, err
		}
	}
	t, err := s.updateTrail(ctx, *in.Name, func(t *trail) error {
		set(&t.S3BucketName, in.S3BucketName)
		set(&t.S3KeyPrefix, in.S3KeyPrefix)
		set(&t.SnsTopicName, in.SnsTopicName)
		set(&t.IncludeGlobalServiceEvents, in.IncludeGlobalServiceEvents)
		set(&t.IsMultiRegionTrail, in.IsMultiRegionTrail)
		set(&t.LogFileValidationEnabled, in.EnableLogFileValidation)
		set(&t.CloudWatchLogsLogGroupArn, in.CloudWatchLogsLogGroupArn)
		set(&t.CloudWatchLogsRoleArn, in.CloudWatchLogsRoleArn)
		set(&t.KmsKeyID, in.KmsKeyId)
		return checkLogGroup(t.CloudWatchLogsLogGroupArn, t.CloudWatchLogsRoleArn)
	})
	if err != nil {
		return nil, err
	}
	v := t.api()
	s.changedTrails(ctx)
	return &api.UpdateTrailResponse{Name: v.Name, S3BucketName: v.S3BucketName, S3KeyPrefix: v.S3KeyPrefix, SnsTopicName: v.SnsTopicName,
		IncludeGlobalServiceEvents: v.IncludeGlobalServiceEvents, IsMultiRegionTrail: v.IsMultiRegionTrail, TrailARN: v.TrailARN,
		LogFileValidationEnabled: v.LogFileValidationEnabled, CloudWatchLogsLogGroupArn: v.CloudWatchLogsLogGroupArn,
		CloudWatchLogsRoleArn: v.CloudWatchLogsRoleArn, KmsKeyId: v.KmsKeyId, IsOrganizationTrail: v.IsOrganizationTrail}, nil
}

// DeleteTrail deletes a trail; what it delivered stays in its bucket.
func (s *Service) DeleteTrail(ctx context.Context, in *api.DeleteTrailRequest) (*api.DeleteTrailResponse, error) {
	ref, err := refOf(ctx, *in.Name)
	if err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(trailsTable, ref.key(), store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return trailNotFound(ref.arn(), ref.scope.Account)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.changedTrails(ctx)
	return &api.DeleteTrailResponse{}, nil
}

// GetTrail describes one trail.
func (s *Service) GetTrail(ctx context.Context, in *api.GetTrailRequest) (*api.GetTrailResponse, error) {
	t, err := s.trailNamed(ctx, *in.Name)
	if err != nil {
		return nil, err
	}
	v := t.api()
	return &api.GetTrailResponse{Trail: &v}, nil
}

// accountTrails are every trail of the caller's account, in every region.
func (s *Service) accountTrails(ctx context.Context) ([]trail, error) {
	var trails []trail
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		trails, err = store.FilterJSON(tx, trailsTable, store.ScanOptions{Prefix: overcast.ScopeOf(ctx).Account + "/"},
			func(trail) bool { return true })
		return err
	})
	return trails, err
}

// DescribeTrails describes the trails of the caller's region: the ones
// created there and, unless asked not to, the multi-region trails of
// other regions (their shadows).
func (s *Service) DescribeTrails(ctx context.Context, in *api.DescribeTrailsRequest) (*api.DescribeTrailsResponse, error) {
	trails, err := s.accountTrails(ctx)
	if err != nil {
		return nil, err
	}
	region := overcast.ScopeOf(ctx).Region
	shadows := in.IncludeShadowTrails == nil || *in.IncludeShadowTrails
	out := &api.DescribeTrailsResponse{TrailList: api.TrailList{}}
	for _, t := range trails {
		if t.HomeRegion != region && !(shadows && t.IsMultiRegionTrail) {
			continue
		}
		if len(in.TrailNameList) > 0 && !slices.Contains(in.TrailNameList, t.Name) && !slices.Contains(in.TrailNameList, t.ARN) {
			continue
		}
		out.TrailList = append(out.TrailList, t.api())
	}
	return out, nil
}

// ListTrails lists the trails of the caller's account in every region.
func (s *Service) ListTrails(ctx context.Context, in *api.ListTrailsRequest) (*api.ListTrailsResponse, error) {
	trails, err := s.accountTrails(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.ListTrailsResponse{Trails: api.Trails{}}
	for _, t := range trails {
		out.Trails = append(out.Trails, api.TrailInfo{TrailARN: new(t.ARN), Name: new(t.Name), HomeRegion: new(t.HomeRegion)})
	}
	return out, nil
}

// StartLogging starts delivering the trail's events from now on.
func (s *Service) StartLogging(ctx context.Context, in *api.StartLoggingRequest) (*api.StartLoggingResponse, error) {
	now := s.Now()
	s.Flush()
	cursors, err := s.ends(ctx, overcast.ScopeOf(ctx).Account)
	if err != nil {
		return nil, err
	}
	_, err = s.updateTrail(ctx, *in.Name, func(t *trail) error {
		if t.Logging {
			return nil
		}
		t.Logging, t.StartLoggingTime = true, now
		t.Cursors, t.StartCursor = cursors, stampKey(now.UnixNano())
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changedTrails(ctx)
	return &api.StartLoggingResponse{}, nil
}

// StopLogging stops delivery; what was recorded before is delivered.
func (s *Service) StopLogging(ctx context.Context, in *api.StopLoggingRequest) (*api.StopLoggingResponse, error) {
	now := s.Now()
	s.Flush()
	if err := s.deliverTrail(ctx, *in.Name); err != nil {
		return nil, err
	}
	_, err := s.updateTrail(ctx, *in.Name, func(t *trail) error {
		if t.Logging {
			t.Logging, t.StopLoggingTime = false, now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changedTrails(ctx)
	return &api.StopLoggingResponse{}, nil
}

// GetTrailStatus reports whether the trail logs and how its deliveries went.
func (s *Service) GetTrailStatus(ctx context.Context, in *api.GetTrailStatusRequest) (*api.GetTrailStatusResponse, error) {
	t, err := s.trailNamed(ctx, *in.Name)
	if err != nil {
		return nil, err
	}
	out := &api.GetTrailStatusResponse{IsLogging: new(t.Logging), StartLoggingTime: timePtr(t.StartLoggingTime),
		StopLoggingTime: timePtr(t.StopLoggingTime), LatestDeliveryTime: timePtr(t.LatestDeliveryTime),
		LatestCloudWatchLogsDeliveryTime: timePtr(t.LatestLogsDeliveryTime), TimeLoggingStarted: statusTime(t.StartLoggingTime),
		TimeLoggingStopped: statusTime(t.StopLoggingTime), LatestDeliveryAttemptTime: statusTime(t.LatestDeliveryAttemptTime),
		LatestNotificationAttemptTime: new(""), LatestNotificationAttemptSucceeded: new(""),
		LatestDeliveryAttemptSucceeded: statusTime(t.LatestDeliveryTime)}
	if t.LatestDeliveryError != "" {
		out.LatestDeliveryError = new(t.LatestDeliveryError)
	}
	if t.LatestLogsDeliveryError != "" {
		out.LatestCloudWatchLogsDeliveryError = new(t.LatestLogsDeliveryError)
	}
	return out, nil
}

// statusTime is a time as GetTrailStatus's string fields give it.
func statusTime(t time.Time) *string {
	if t.IsZero() {
		return new("")
	}
	return new(t.UTC().Format("2006-01-02T15:04:05Z"))
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// api is the trail as DescribeTrails and GetTrail show it.
func (t trail) api() api.Trail {
	return api.Trail{Name: new(t.Name), S3BucketName: new(t.S3BucketName), S3KeyPrefix: optional(t.S3KeyPrefix),
		SnsTopicName: optional(t.SnsTopicName), IncludeGlobalServiceEvents: new(t.IncludeGlobalServiceEvents),
		IsMultiRegionTrail: new(t.IsMultiRegionTrail), HomeRegion: new(t.HomeRegion), TrailARN: new(t.ARN),
		LogFileValidationEnabled: new(t.LogFileValidationEnabled), CloudWatchLogsLogGroupArn: optional(t.CloudWatchLogsLogGroupArn),
		CloudWatchLogsRoleArn: optional(t.CloudWatchLogsRoleArn), KmsKeyId: optional(t.KmsKeyID),
		HasCustomEventSelectors: new(len(t.EventSelectors) > 0 || len(t.AdvancedEventSelectors) > 0),
		HasInsightSelectors:     new(false), IsOrganizationTrail: new(false)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func set[T any](dst *T, p *T) {
	if p != nil {
		*dst = *p
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
