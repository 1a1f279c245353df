package logs

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// updateAttempts bounds UpdateRetry for read-modify-write of records; with
// SQLite's single writer a conflict cannot happen inside one Update, but
// other store implementations report serialization failures as conflicts.
const updateAttempts = 5

func (s *Service) update(ctx context.Context, fn func(store.Tx) error) error {
	return store.UpdateRetry(ctx, s.Store, updateAttempts, fn)
}

// groupRef names a log group: the caller's account and region unless an
// ARN said otherwise.
type groupRef struct {
	Account, Region, Name string
}

func (r groupRef) key() string { return groupKey(r.Account, r.Region, r.Name) }

func callerGroup(ctx context.Context, name string) groupRef {
	c := overcast.CallerFrom(ctx)
	return groupRef{Account: c.AccountID, Region: c.Region, Name: name}
}

// resolveGroup takes the logGroupName/logGroupIdentifier pair that reading
// APIs accept: exactly one of them, the identifier being a name or an ARN.
func resolveGroup(ctx context.Context, name, identifier *string) (groupRef, error) {
	switch {
	case name != nil && identifier != nil:
		return groupRef{}, invalidParameter("LogGroupName and LogGroupIdentifier are mutually exclusive parameters.")
	case name != nil:
		return callerGroup(ctx, *name), nil
	case identifier != nil:
		return groupFromIdentifier(ctx, "logGroupIdentifier", *identifier)
	}
	return groupRef{}, invalidParameter("Either LogGroupName or LogGroupIdentifier must be specified.")
}

// groupFromName takes the logGroupName member of the APIs that accept
// only a name (which the codec has checked against the model).
func groupFromName(ctx context.Context, name string) groupRef {
	return callerGroup(ctx, name)
}

// groupFromIdentifier accepts a log group name or ARN, with or without
// the trailing ":*" that DescribeLogGroups' arn field carries.
func groupFromIdentifier(ctx context.Context, member, id string) (groupRef, error) {
	if !strings.HasPrefix(id, "arn:") {
		return callerGroup(ctx, id), checkGroupName(member, id)
	}
	ref, ok := groupFromARN(id)
	if !ok {
		return groupRef{}, invalidParameter("Invalid %s: %s is not a log group ARN.", member, id)
	}
	return ref, checkSameAccount(ctx, ref)
}

// checkSameAccount keeps ARNs from reaching into other accounts and
// regions: cross-account observability is not implemented, so another
// account's group is as good as absent.
func checkSameAccount(ctx context.Context, ref groupRef) error {
	c := overcast.CallerFrom(ctx)
	if ref.Account != c.AccountID || ref.Region != c.Region {
		return errGroupNotFound()
	}
	return nil
}

func groupFromARN(s string) (groupRef, bool) {
	a, ok := overcast.ParseARN(s)
	if !ok || a.Service != "logs" || !overcast.IsAccountID(a.AccountID) || a.Region == "" {
		return groupRef{}, false
	}
	name, ok := strings.CutPrefix(a.Resource, "log-group:")
	if !ok {
		return groupRef{}, false
	}
	name = strings.TrimSuffix(name, ":*")
	if checkGroupName("resourceArn", name) != nil {
		return groupRef{}, false
	}
	return groupRef{Account: a.AccountID, Region: a.Region, Name: name}, true
}

func loadGroup(tx store.Tx, ref groupRef) (group, int64, error) {
	var g group
	v, err := store.GetJSON(tx, groupsTable, ref.key(), &g)
	if errors.Is(err, store.ErrNotFound) {
		return g, 0, errGroupNotFound()
	}
	return g, v, err
}

// viewGroup reads a group in its own snapshot.
func (s *Service) viewGroup(ctx context.Context, ref groupRef) (group, error) {
	var g group
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		g, _, err = loadGroup(tx, ref)
		return err
	})
	return g, err
}

// viewRecord reads a JSON record in its own snapshot.
func (s *Service) viewRecord(ctx context.Context, table, key string, v any) error {
	return s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, table, key, v)
		return err
	})
}

// recordFound reads the record a controller's key names, reporting false
// when it is gone: nothing left to do.
func (s *Service) recordFound(ctx context.Context, table, key string, v any) (bool, error) {
	err := s.viewRecord(ctx, table, key, v)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// modifyRecord is a read-modify-write of one JSON record of type T;
// notFound is the error when it does not exist.
func modifyRecord[T any](ctx context.Context, s *Service, table, key string, notFound error, fn func(*T) error) error {
	return s.update(ctx, func(tx store.Tx) error {
		var v T
		if _, err := store.GetJSON(tx, table, key, &v); errors.Is(err, store.ErrNotFound) {
			return notFound
		} else if err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return err
		}
		_, err := store.PutJSON(tx, table, key, &v, store.AnyVersion)
		return err
	})
}

func putGroup(tx store.Tx, g *group) error {
	_, err := store.PutJSON(tx, groupsTable, groupKey(g.Account, g.Region, g.Name), g, store.AnyVersion)
	return err
}

// CreateLogGroup implements api.Server.
func (s *Service) CreateLogGroup(ctx context.Context, in *api.CreateLogGroupRequest) error {
	name := *in.LogGroupName
	if err := checkNewGroupName(name); err != nil {
		return err
	}
	class := "STANDARD"
	if in.LogGroupClass != nil {
		class = *in.LogGroupClass
	}
	if err := checkReservedTagKeys(in.Tags); err != nil {
		return err
	}
	if len(in.Tags) > maxTagsPerGroup {
		return invalidParameter("A log group can have at most %d tags.", maxTagsPerGroup)
	}
	ref := callerGroup(ctx, name)
	return s.createGroup(ctx, ref, func(g *group) {
		g.Class = class
		g.KmsKeyID = deref(in.KmsKeyId)
		g.DeletionProtection = in.DeletionProtectionEnabled != nil && *in.DeletionProtectionEnabled
		if len(in.Tags) > 0 {
			g.Tags = maps.Clone(map[string]string(in.Tags))
		}
	})
}

// createGroup stores a new group, ResourceAlreadyExistsException if the
// name is taken.
func (s *Service) createGroup(ctx context.Context, ref groupRef, init func(*group)) error {
	return s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(groupsTable, ref.key()); err == nil {
			return &awsproto.Error{Code: "ResourceAlreadyExistsException", Status: 400, Message: "The specified log group already exists"}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.insertGroup(tx, ref, init)
	})
}

func (s *Service) insertGroup(tx store.Tx, ref groupRef, init func(*group)) error {
	n, err := tx.Count(groupsTable, groupKey(ref.Account, ref.Region, ""))
	if err != nil {
		return err
	}
	if n >= s.maxLogGroups {
		return &awsproto.Error{Code: "LimitExceededException", Status: 400, Message: "Resource limit exceeded."}
	}
	id, err := nextID(tx)
	if err != nil {
		return err
	}
	g := group{ID: id, Account: ref.Account, Region: ref.Region, Name: ref.Name, Created: s.nowMillis(), Class: "STANDARD"}
	if init != nil {
		init(&g)
	}
	_, err = store.PutJSON(tx, groupsTable, ref.key(), &g, 0)
	return err
}

// DeleteLogGroup implements api.Server. The group's streams and events go
// with it: the record and filters now, the data in the background.
func (s *Service) DeleteLogGroup(ctx context.Context, in *api.DeleteLogGroupRequest) error {
	ref := groupFromName(ctx, *in.LogGroupName)
	var tomb string
	err := s.update(ctx, func(tx store.Tx) error {
		g, v, err := loadGroup(tx, ref)
		if err != nil {
			return err
		}
		if g.DeletionProtection {
			return &awsproto.Error{Code: "InvalidOperationException", Status: 400,
				Message: "Log group " + g.Name + " has deletion protection enabled. Disable it with PutLogGroupDeletionProtection first."}
		}
		if err := tx.Delete(groupsTable, ref.key(), v); err != nil {
			return err
		}
		// Its filters go with it (a few hundred at most): a group created
		// again under the name starts without them.
		for _, table := range []string{metricFiltersTable, subscriptionsTable} {
			if _, err := store.DeleteScanned(tx, table, store.ScanOptions{Prefix: filterPrefix(ref)}); err != nil {
				return err
			}
		}
		tomb, err = addTombstone(tx, g.ID, 0)
		return err
	})
	if err == nil {
		s.reclaim.Enqueue(tomb)
	}
	return err
}

// PutLogGroupDeletionProtection implements api.Server.
func (s *Service) PutLogGroupDeletionProtection(ctx context.Context, in *api.PutLogGroupDeletionProtectionRequest) error {
	ref, err := groupFromIdentifier(ctx, "logGroupIdentifier", *in.LogGroupIdentifier)
	if err != nil {
		return err
	}
	return s.modifyGroup(ctx, ref, func(g *group) error {
		g.DeletionProtection = *in.DeletionProtectionEnabled
		return nil
	})
}

// modifyGroup is a read-modify-write of one group record.
func (s *Service) modifyGroup(ctx context.Context, ref groupRef, fn func(*group) error) error {
	return s.update(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, ref)
		if err != nil {
			return err
		}
		if err := fn(&g); err != nil {
			return err
		}
		return putGroup(tx, &g)
	})
}

// PutRetentionPolicy implements api.Server. Reads hide expired events at
// once; the retention controller, asked now, deletes them.
func (s *Service) PutRetentionPolicy(ctx context.Context, in *api.PutRetentionPolicyRequest) error {
	ref := groupFromName(ctx, *in.LogGroupName)
	if err := checkRetention(*in.RetentionInDays); err != nil {
		return err
	}
	err := s.modifyGroup(ctx, ref, func(g *group) error {
		g.RetentionDays = *in.RetentionInDays
		return nil
	})
	if err == nil {
		s.retention.Enqueue(ref.key())
	}
	return err
}

// DeleteRetentionPolicy implements api.Server: events are kept forever.
func (s *Service) DeleteRetentionPolicy(ctx context.Context, in *api.DeleteRetentionPolicyRequest) error {
	ref := groupFromName(ctx, *in.LogGroupName)
	return s.modifyGroup(ctx, ref, func(g *group) error {
		g.RetentionDays = 0
		return nil
	})
}

const describeGroupsMax = 50

// DescribeLogGroups implements api.Server: the caller's groups in name
// order, filtered by prefix, by pattern (a case-insensitive substring) or
// by identifiers.
func (s *Service) DescribeLogGroups(ctx context.Context, in *api.DescribeLogGroupsRequest) (*api.DescribeLogGroupsResponse, error) {
	limit := awsproto.PageSize(in.Limit, describeGroupsMax)
	prefix, pattern := deref(in.LogGroupNamePrefix), deref(in.LogGroupNamePattern)
	switch {
	case in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil:
		return nil, invalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	case len(in.LogGroupIdentifiers) > 0 && (in.LogGroupNamePrefix != nil || in.LogGroupNamePattern != nil):
		return nil, invalidParameter("LogGroupIdentifiers is mutually exclusive with LogGroupNamePrefix and LogGroupNamePattern.")
	}
	var wanted map[string]bool
	if len(in.LogGroupIdentifiers) > 0 {
		wanted = map[string]bool{}
		for _, id := range in.LogGroupIdentifiers {
			ref, err := groupFromIdentifier(ctx, "logGroupIdentifiers", id)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			wanted[ref.Name] = true
		}
	}
	lowerPattern := strings.ToLower(pattern)
	groups, next, err := s.scanGroups(ctx, prefix, in.NextToken, limit, func(g *group) bool {
		switch {
		case wanted != nil && !wanted[g.Name]:
			return false
		case pattern != "" && !strings.Contains(strings.ToLower(g.Name), lowerPattern):
			return false
		}
		return in.LogGroupClass == nil || g.Class == *in.LogGroupClass
	})
	if err != nil {
		return nil, err
	}
	out := &api.DescribeLogGroupsResponse{LogGroups: api.LogGroups{}, NextToken: next}
	for i := range groups {
		out.LogGroups = append(out.LogGroups, groups[i].describe())
	}
	return out, nil
}

// ListLogGroups implements api.Server: the newer listing, whose pattern is
// a case-sensitive regular expression.
func (s *Service) ListLogGroups(ctx context.Context, in *api.ListLogGroupsRequest) (*api.ListLogGroupsResponse, error) {
	limit := awsproto.PageSize(in.Limit, describeGroupsMax)
	var re *regexp.Regexp
	var err error
	if in.LogGroupNamePattern != nil {
		if re, err = regexp.Compile(*in.LogGroupNamePattern); err != nil {
			return nil, invalidParameter("Invalid logGroupNamePattern: %v", err)
		}
	}
	groups, next, err := s.scanGroups(ctx, "", in.NextToken, limit, func(g *group) bool {
		return (re == nil || re.MatchString(g.Name)) && (in.LogGroupClass == nil || g.Class == *in.LogGroupClass)
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListLogGroupsResponse{LogGroups: api.LogGroupSummaries{}, NextToken: next}
	for _, g := range groups {
		out.LogGroups = append(out.LogGroups, api.LogGroupSummary{LogGroupName: new(g.Name), LogGroupArn: new(g.arn()), LogGroupClass: new(g.Class)})
	}
	return out, nil
}

// scanGroups lists the caller's groups with the name prefix that keep
// accepts, in name order, a page at a time.
func (s *Service) scanGroups(ctx context.Context, prefix string, token *string, limit int, keep func(*group) bool) ([]group, *string, error) {
	c := overcast.CallerFrom(ctx)
	opt, err := nameScan(groupKey(c.AccountID, c.Region, ""), prefix, token)
	if err != nil {
		return nil, nil, err
	}
	var out []group
	var next *string
	err = s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, groupsTable, opt, func(_ string, g group, _ int64) error {
			if !keep(&g) {
				return nil
			}
			if len(out) == limit {
				next = new(encodeNameToken(out[limit-1].Name))
				return store.ErrStop
			}
			out = append(out, g)
			return nil
		})
	})
	return out, next, err
}

func (g *group) describe() api.LogGroup {
	lg := api.LogGroup{
		LogGroupName:              new(g.Name),
		CreationTime:              new(g.Created),
		MetricFilterCount:         new(g.MetricFilters),
		Arn:                       new(g.arn() + ":*"),
		LogGroupArn:               new(g.arn()),
		StoredBytes:               new(g.StoredBytes),
		LogGroupClass:             new(g.Class),
		DeletionProtectionEnabled: new(g.DeletionProtection),
	}
	if g.RetentionDays > 0 {
		lg.RetentionInDays = new(g.RetentionDays)
	}
	if g.KmsKeyID != "" {
		lg.KmsKeyId = new(g.KmsKeyID)
	}
	return lg
}

// Pagination tokens for name-ordered listings are the last name returned,
// opaque to clients.
func encodeNameToken(name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n/" + name))
}

// nameScan is the scan of a name-ordered listing of the records under
// base: the names with prefix, after the name a token carries.
func nameScan(base, prefix string, token *string) (store.ScanOptions, error) {
	opt := store.ScanOptions{Prefix: base + prefix}
	if token != nil {
		last, err := decodeNameToken(*token)
		if err != nil {
			return opt, err
		}
		opt.After = base + last
	}
	return opt, nil
}

func decodeNameToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", errBadToken()
	}
	name, ok := strings.CutPrefix(string(b), "n/")
	if !ok {
		return "", errBadToken()
	}
	return name, nil
}

// Tags.

// TagLogGroup implements api.Server (the legacy, name-based tagging API).
func (s *Service) TagLogGroup(ctx context.Context, in *api.TagLogGroupRequest) error {
	ref := groupFromName(ctx, *in.LogGroupName)
	return s.tag(ctx, ref, in.Tags, false)
}

// TagResource implements api.Server.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) error {
	ref, err := groupFromResourceARN(ctx, *in.ResourceArn)
	if err != nil {
		return err
	}
	return s.tag(ctx, ref, in.Tags, true)
}

func (s *Service) tag(ctx context.Context, ref groupRef, tags map[string]string, byARN bool) error {
	if err := checkReservedTagKeys(tags); err != nil {
		return err
	}
	return s.modifyGroup(ctx, ref, func(g *group) error {
		merged := maps.Clone(g.Tags)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, tags)
		if len(merged) > maxTagsPerGroup {
			if byARN {
				e := api.NewTooManyTagsException("A resource can have no more than %d tags.", maxTagsPerGroup)
				e.ResourceName = new(g.arn())
				return e
			}
			return invalidParameter("A log group can have at most %d tags.", maxTagsPerGroup)
		}
		g.Tags = merged
		return nil
	})
}

// UntagLogGroup implements api.Server.
func (s *Service) UntagLogGroup(ctx context.Context, in *api.UntagLogGroupRequest) error {
	ref := groupFromName(ctx, *in.LogGroupName)
	return s.untag(ctx, ref, in.Tags)
}

// UntagResource implements api.Server.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) error {
	ref, err := groupFromResourceARN(ctx, *in.ResourceArn)
	if err != nil {
		return err
	}
	return s.untag(ctx, ref, in.TagKeys)
}

func (s *Service) untag(ctx context.Context, ref groupRef, keys []string) error {
	return s.modifyGroup(ctx, ref, func(g *group) error {
		for _, k := range keys {
			delete(g.Tags, k)
		}
		if len(g.Tags) == 0 {
			g.Tags = nil
		}
		return nil
	})
}

// ListTagsLogGroup implements api.Server.
func (s *Service) ListTagsLogGroup(ctx context.Context, in *api.ListTagsLogGroupRequest) (*api.ListTagsLogGroupResponse, error) {
	ref := groupFromName(ctx, *in.LogGroupName)
	tags, err := s.tags(ctx, ref)
	if err != nil {
		return nil, err
	}
	return &api.ListTagsLogGroupResponse{Tags: tags}, nil
}

// ListTagsForResource implements api.Server.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	ref, err := groupFromResourceARN(ctx, *in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags, err := s.tags(ctx, ref)
	if err != nil {
		return nil, err
	}
	return &api.ListTagsForResourceResponse{Tags: tags}, nil
}

func (s *Service) tags(ctx context.Context, ref groupRef) (api.Tags, error) {
	g, err := s.viewGroup(ctx, ref)
	if err != nil {
		return nil, err
	}
	tags := api.Tags{}
	maps.Copy(tags, g.Tags)
	return tags, nil
}

// groupFromResourceARN resolves the ARN of the by-ARN tagging APIs. Only
// log groups are taggable here; destinations and deliveries are not
// implemented, so their ARNs are refused as not found.
func groupFromResourceARN(ctx context.Context, s string) (groupRef, error) {
	if ref, ok := groupFromARN(s); ok {
		return ref, checkSameAccount(ctx, ref)
	}
	a, ok := overcast.ParseARN(s)
	if !ok || a.Service != "logs" {
		return groupRef{}, invalidParameter("Invalid resourceArn: %s", s)
	}
	if slices.ContainsFunc([]string{"destination:", "delivery-source:", "delivery-destination:", "delivery:", "anomaly-detector:"},
		func(p string) bool { return strings.HasPrefix(a.Resource, p) }) {
		return groupRef{}, &awsproto.Error{Code: "ResourceNotFoundException", Status: 400, Message: "The specified resource does not exist."}
	}
	return groupRef{}, invalidParameter("Invalid resourceArn: %s", s)
}

// deref dereferences an optional string.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
