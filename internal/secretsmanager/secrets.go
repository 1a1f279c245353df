package secretsmanager

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/secretsmanager"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

// validName reports whether s may name a secret: ASCII letters, digits
// and /_+=.@- only. The model says only how long a name may be.
func validName(s string) bool {
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '/', c == '_', c == '+', c == '=', c == '.', c == '@', c == '-':
		default:
			return false
		}
	}
	return true
}

// requestValue validates a request's SecretString and SecretBinary; ok is
// false when it carries neither.
func requestValue(str *string, bin []byte) (v secretValue, ok bool, err error) {
	if str != nil && bin != nil {
		return v, false, api.NewInvalidParameterException("You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	switch {
	case str != nil:
		return secretValue{str: str}, true, nil
	case bin != nil:
		return secretValue{binary: bin}, true, nil
	}
	return v, false, nil
}

func setTags(tags []tag, add api.TagListType) ([]tag, error) {
	out := slices.Clone(tags)
	for _, t := range add {
		out = service.SetTag(out, *t.Key, service.Deref(t.Value))
	}
	if len(out) > maxTags {
		return nil, api.NewInvalidParameterException("The request failed because it would exceed the limit of %d tags per secret.", maxTags)
	}
	return out, nil
}

// attachStages puts stages on version id, taking each off whichever version
// had it. Moving AWSCURRENT leaves AWSPREVIOUS on the version it left, as
// AWS does, so the last value is one call away.
func attachStages(sec *secret, id string, stages []string) {
	target := sec.version(id)
	for _, stage := range stages {
		if slices.Contains(target.Stages, stage) {
			continue
		}
		from := sec.withStage(stage)
		if from != nil {
			from.Stages = slices.DeleteFunc(from.Stages, func(s string) bool { return s == stage })
		}
		if stage == stageCurrent && from != nil {
			for i := range sec.Versions {
				sec.Versions[i].Stages = slices.DeleteFunc(sec.Versions[i].Stages, func(s string) bool { return s == stagePrevious })
			}
			from.Stages = append(from.Stages, stagePrevious)
			target.Stages = slices.DeleteFunc(target.Stages, func(s string) bool { return s == stagePrevious })
		}
		target.Stages = append(target.Stages, stage)
	}
}

// prune drops the oldest versions without staging labels while the secret
// has more than AWS keeps, returning their IDs.
func prune(sec *secret) []string {
	var dropped []string
	for len(sec.Versions) > maxVersions {
		i := slices.IndexFunc(sec.Versions, func(v secretVersion) bool { return len(v.Stages) == 0 })
		if i < 0 {
			break
		}
		dropped = append(dropped, sec.Versions[i].ID)
		sec.Versions = slices.Delete(sec.Versions, i, i+1)
	}
	return dropped
}

// pruneValues prunes sec's versions and deletes the values of those dropped.
func pruneValues(tx store.Tx, sc scope, sec *secret) error {
	for _, old := range prune(sec) {
		if err := tx.Delete(valuesTable, valueKey(sc, sec.Name, old), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// addVersion stores a new version of sec with stages. A token naming an
// existing version is a retry: the same value is a no-op (created is
// false), a different value an error, since versions are immutable.
func (s *Service) addVersion(tx store.Tx, sc scope, sec *secret, token *string, value secretValue, stages []string) (id string, created bool, err error) {
	id = s.newVersionID()
	if token != nil {
		id = *token
	}
	if sec.version(id) != nil {
		old, err := s.readValue(tx, sc, sec, id)
		if err != nil {
			return "", false, err
		}
		if !old.equal(value) {
			return "", false, api.NewResourceExistsException("You can't modify an existing version, you can only create a new version.")
		}
		return id, false, nil
	}
	now := s.Now().UTC()
	sec.Versions = append(sec.Versions, secretVersion{ID: id, Created: now, KmsKeyID: sec.KmsKeyID})
	if _, err := store.PutJSON(tx, valuesTable, valueKey(sc, sec.Name, id), s.seal(sec, id, value), store.AnyVersion); err != nil {
		return "", false, err
	}
	attachStages(sec, id, stages)
	if err := pruneValues(tx, sc, sec); err != nil {
		return "", false, err
	}
	sec.Changed = now
	return id, true, nil
}

// CreateSecret creates a secret, with a first version when it has a value.
func (s *Service) CreateSecret(ctx context.Context, in *api.CreateSecretRequest) (*api.CreateSecretResponse, error) {
	sc := overcast.ScopeOf(ctx)
	name := *in.Name
	if !validName(name) {
		return nil, api.NewInvalidParameterException("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	value, hasValue, err := requestValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	var out *api.CreateSecretResponse
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var old secret
		storeVer, err := store.GetJSON(tx, secretsTable, sc.Key(name), &old)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case old.expired(s.Now()):
			if err := purge(tx, sc, &old); err != nil {
				return err
			}
			storeVer = 0
		case old.scheduled():
			return api.NewInvalidRequestException("You can't create this secret because a secret with this name is already scheduled for deletion.")
		default:
			// A retry of the CreateSecret that made this secret answers
			// like the original call did.
			if in.ClientRequestToken != nil && hasValue && old.version(*in.ClientRequestToken) != nil {
				prev, err := s.readValue(tx, sc, &old, *in.ClientRequestToken)
				if err != nil {
					return err
				}
				if prev.equal(value) {
					out = &api.CreateSecretResponse{ARN: new(old.ARN), Name: new(old.Name), VersionId: in.ClientRequestToken}
					return nil
				}
			}
			return api.NewResourceExistsException("The operation failed because the secret %s already exists.", name)
		}
		now := s.Now().UTC()
		sec := secret{Name: name, ARN: s.newSecretARN(sc, in), Created: now, Changed: now}
		if in.Description != nil {
			sec.Description = *in.Description
		}
		if in.KmsKeyId != nil {
			sec.KmsKeyID = *in.KmsKeyId
		}
		if sec.Tags, err = setTags(nil, in.Tags); err != nil {
			return err
		}
		out = &api.CreateSecretResponse{ARN: new(sec.ARN), Name: new(name)}
		if hasValue {
			id, _, err := s.addVersion(tx, sc, &sec, in.ClientRequestToken, value, []string{stageCurrent})
			if err != nil {
				return err
			}
			out.VersionId = new(id)
		}
		_, err = store.PutJSON(tx, secretsTable, sc.Key(name), sec, storeVer)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// selectVersion picks the version a GetSecretValue asks for.
func selectVersion(sec *secret, versionID, stage *string) (*secretVersion, error) {
	if versionID != nil {
		v := sec.version(*versionID)
		if v == nil {
			return nil, api.NewResourceNotFoundException("Secrets Manager can't find the specified secret value for VersionId: %s", *versionID)
		}
		if stage != nil && !slices.Contains(v.Stages, *stage) {
			return nil, api.NewInvalidRequestException("You provided a VersionStage that is not associated to the provided VersionId.")
		}
		return v, nil
	}
	want := stageCurrent
	if stage != nil {
		want = *stage
	}
	v := sec.withStage(want)
	if v == nil {
		return nil, api.NewResourceNotFoundException("Secrets Manager can't find the specified secret value for staging label: %s", want)
	}
	return v, nil
}

// getValue reads a version's value, marking the secret accessed.
func (s *Service) getValue(ctx context.Context, sc scope, id string, versionID, stage *string) (*api.GetSecretValueResponse, error) {
	var sec secret
	var ver secretVersion
	var value secretValue
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if sec, _, err = s.lookup(tx, sc, id); err != nil {
			return err
		}
		if sec.scheduled() {
			return markedForDeletion()
		}
		v, err := selectVersion(&sec, versionID, stage)
		if err != nil {
			return err
		}
		ver = *v
		value, err = s.readValue(tx, sc, &sec, ver.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.touch(ctx, sc, &sec, ver.ID); err != nil {
		return nil, err
	}
	return &api.GetSecretValueResponse{
		ARN:           new(sec.ARN),
		Name:          new(sec.Name),
		VersionId:     new(ver.ID),
		SecretString:  value.str,
		SecretBinary:  value.binary,
		VersionStages: slices.Clone(ver.Stages),
		CreatedDate:   new(ver.Created),
	}, nil
}

// touch records today as the last access of the secret and the version;
// since AWS tracks access to the day, it writes at most once a day.
func (s *Service) touch(ctx context.Context, sc scope, read *secret, versionID string) error {
	today := day(s.Now())
	if v := read.version(versionID); read.Accessed != nil && read.Accessed.Equal(today) && v != nil && v.Accessed != nil && v.Accessed.Equal(today) {
		return nil
	}
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var sec secret
		ver, err := store.GetJSON(tx, secretsTable, sc.Key(read.Name), &sec)
		if errors.Is(err, store.ErrNotFound) || (err == nil && sec.ARN != read.ARN) {
			return nil // deleted meanwhile: nothing to mark
		}
		if err != nil {
			return err
		}
		sec.Accessed = &today
		if v := sec.version(versionID); v != nil {
			v.Accessed = &today
		}
		_, err = store.PutJSON(tx, secretsTable, sc.Key(sec.Name), sec, ver)
		return err
	})
}

// GetSecretValue returns a version's value, AWSCURRENT by default.
func (s *Service) GetSecretValue(ctx context.Context, in *api.GetSecretValueRequest) (*api.GetSecretValueResponse, error) {
	return s.getValue(ctx, overcast.ScopeOf(ctx), *in.SecretId, in.VersionId, in.VersionStage)
}

// BatchGetSecretValue returns the values of up to 20 secrets, named or
// found by filters; secrets that cannot be read are reported in Errors.
func (s *Service) BatchGetSecretValue(ctx context.Context, in *api.BatchGetSecretValueRequest) (*api.BatchGetSecretValueResponse, error) {
	sc := overcast.ScopeOf(ctx)
	if len(in.SecretIdList) > 0 && len(in.Filters) > 0 {
		return nil, api.NewInvalidParameterException("Either 'SecretIdList' or 'Filters' must be provided, but not both.")
	}
	if len(in.SecretIdList) == 0 && len(in.Filters) == 0 {
		return nil, api.NewInvalidParameterException("Either 'SecretIdList' or 'Filters' must be provided.")
	}
	if in.MaxResults != nil && len(in.Filters) == 0 {
		return nil, api.NewInvalidParameterException("'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.")
	}
	limit := awsproto.PageSize(in.MaxResults, 20)
	ids := []string(in.SecretIdList)
	out := &api.BatchGetSecretValueResponse{SecretValues: api.SecretValuesType{}, Errors: api.APIErrorListType{}}
	if len(in.Filters) > 0 {
		page, next, err := s.list(ctx, sc, listQuery{filters: in.Filters, limit: limit, token: in.NextToken, sortBy: api.SortByTypeName, asc: true})
		if err != nil {
			return nil, err
		}
		ids = ids[:0]
		for _, sec := range page {
			ids = append(ids, sec.ARN)
		}
		out.NextToken = next
	}
	for _, id := range ids {
		got, err := s.getValue(ctx, sc, id, nil, nil)
		if err != nil {
			var code, msg string
			var notFound *api.ResourceNotFoundException
			var invalid *api.InvalidRequestException
			switch {
			case errors.As(err, &notFound):
				code, msg = notFound.ErrorCode(), notFound.ErrorMessage()
			case errors.As(err, &invalid):
				code, msg = invalid.ErrorCode(), invalid.ErrorMessage()
			default:
				return nil, err
			}
			out.Errors = append(out.Errors, api.APIErrorType{SecretId: new(id), ErrorCode: new(code), Message: new(msg)})
			continue
		}
		out.SecretValues = append(out.SecretValues, api.SecretValueEntry{
			ARN: got.ARN, Name: got.Name, VersionId: got.VersionId, SecretString: got.SecretString,
			SecretBinary: got.SecretBinary, VersionStages: got.VersionStages, CreatedDate: got.CreatedDate,
		})
	}
	return out, nil
}

// liveSecret reads a secret for a change: it must exist and not be
// scheduled for deletion.
func (s *Service) liveSecret(tx store.Tx, sc scope, id string) (secret, int64, error) {
	sec, ver, err := s.lookup(tx, sc, id)
	if err == nil && sec.scheduled() {
		err = markedForDeletion()
	}
	return sec, ver, err
}

// readSecret reads the secret id names, in its own transaction; it may be
// scheduled for deletion.
func (s *Service) readSecret(ctx context.Context, sc scope, id string) (secret, error) {
	var sec secret
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		sec, _, err = s.lookup(tx, sc, id)
		return err
	})
	return sec, err
}

// errNoChange, from an updateSecret change, commits without writing the
// secret back: the request asked for what already holds.
var errNoChange = errors.New("secretsmanager: nothing to change")

// updateSecret is the read-modify-write of one secret, retried on
// conflict: read finds it (liveSecret for a change AWS refuses on a secret
// scheduled for deletion, lookup otherwise), change modifies it, and it is
// written back unless change returns errNoChange.
func (s *Service) updateSecret(ctx context.Context, sc scope, id string,
	read func(tx store.Tx, sc scope, id string) (secret, int64, error),
	change func(tx store.Tx, sec *secret) error,
) error {
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		sec, ver, err := read(tx, sc, id)
		if err != nil {
			return err
		}
		switch err := change(tx, &sec); {
		case errors.Is(err, errNoChange):
			return nil
		case err != nil:
			return err
		}
		_, err = store.PutJSON(tx, secretsTable, sc.Key(sec.Name), sec, ver)
		return err
	})
}

// updateAnswering is updateSecret for an operation that answers with what
// change returns, as of the attempt that succeeded (or made no change).
func updateAnswering[R any](ctx context.Context, s *Service, sc scope, id string,
	read func(tx store.Tx, sc scope, id string) (secret, int64, error),
	change func(tx store.Tx, sec *secret) (*R, error),
) (*R, error) {
	var out *R
	err := s.updateSecret(ctx, sc, id, read, func(tx store.Tx, sec *secret) (err error) {
		out, err = change(tx, sec)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutSecretValue adds a version; it becomes AWSCURRENT unless the request
// names other stages.
func (s *Service) PutSecretValue(ctx context.Context, in *api.PutSecretValueRequest) (*api.PutSecretValueResponse, error) {
	sc := overcast.ScopeOf(ctx)
	value, hasValue, err := requestValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	if !hasValue {
		return nil, api.NewInvalidRequestException("You must provide either SecretString or SecretBinary.")
	}
	stages := []string(in.VersionStages)
	if len(stages) == 0 {
		stages = []string{stageCurrent}
	}
	return updateAnswering(ctx, s, sc, *in.SecretId, s.liveSecret, func(tx store.Tx, sec *secret) (*api.PutSecretValueResponse, error) {
		id, created, err := s.addVersion(tx, sc, sec, in.ClientRequestToken, value, stages)
		if err != nil {
			return nil, err
		}
		out := &api.PutSecretValueResponse{ARN: new(sec.ARN), Name: new(sec.Name), VersionId: new(id),
			VersionStages: slices.Clone(sec.version(id).Stages)}
		if !created {
			return out, errNoChange
		}
		return out, nil
	})
}

// UpdateSecret changes a secret's description or key, and with a value
// adds a version that becomes AWSCURRENT.
func (s *Service) UpdateSecret(ctx context.Context, in *api.UpdateSecretRequest) (*api.UpdateSecretResponse, error) {
	sc := overcast.ScopeOf(ctx)
	value, hasValue, err := requestValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	return updateAnswering(ctx, s, sc, *in.SecretId, s.liveSecret, func(tx store.Tx, sec *secret) (*api.UpdateSecretResponse, error) {
		out := &api.UpdateSecretResponse{ARN: new(sec.ARN), Name: new(sec.Name)}
		if in.Description != nil {
			sec.Description = *in.Description
		}
		if in.KmsKeyId != nil {
			sec.KmsKeyID = *in.KmsKeyId
		}
		if hasValue {
			id, _, err := s.addVersion(tx, sc, sec, in.ClientRequestToken, value, []string{stageCurrent})
			if err != nil {
				return nil, err
			}
			out.VersionId = new(id)
		}
		sec.Changed = s.Now().UTC()
		return out, nil
	})
}

// DeleteSecret schedules a secret for deletion after a recovery window, or
// deletes it at once with ForceDeleteWithoutRecovery.
func (s *Service) DeleteSecret(ctx context.Context, in *api.DeleteSecretRequest) (*api.DeleteSecretResponse, error) {
	sc := overcast.ScopeOf(ctx)
	force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
	if in.RecoveryWindowInDays != nil && force {
		return nil, api.NewInvalidParameterException("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := int64(defaultWindow)
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
	}
	if days < 7 || days > 30 {
		return nil, api.NewInvalidParameterException("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	var out *api.DeleteSecretResponse
	var scheduled string // the deletion index entry the controller acts on
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		scheduled = ""
		now := s.Now().UTC()
		sec, ver, err := s.lookup(tx, sc, *in.SecretId)
		var notFound *api.ResourceNotFoundException
		if errors.As(err, &notFound) && force {
			// Forcing the deletion of a secret that is already gone is
			// not an error: the caller's wish holds.
			name, arn := *in.SecretId, ""
			if a, ok := overcast.ParseARN(name); ok {
				arn, name = name, strings.TrimPrefix(a.Resource, "secret:")
			} else {
				arn = s.secretARN(sc, name)
			}
			out = &api.DeleteSecretResponse{ARN: &arn, Name: &name, DeletionDate: &now}
			return nil
		}
		if err != nil {
			return err
		}
		if force {
			out = &api.DeleteSecretResponse{ARN: new(sec.ARN), Name: new(sec.Name), DeletionDate: &now}
			return purge(tx, sc, &sec)
		}
		if sec.scheduled() {
			return api.NewInvalidRequestException("You tried to perform the operation on a secret that's currently marked deleted.")
		}
		due := now.Add(time.Duration(days) * 24 * time.Hour)
		sec.DeletionDate = &due
		scheduled = deletionKey(due, sc, sec.Name)
		if _, err := tx.Put(deletionsTable, scheduled, []byte(sec.ARN), store.AnyVersion); err != nil {
			return err
		}
		if _, err := store.PutJSON(tx, secretsTable, sc.Key(sec.Name), sec, ver); err != nil {
			return err
		}
		out = &api.DeleteSecretResponse{ARN: new(sec.ARN), Name: new(sec.Name), DeletionDate: &due}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if scheduled != "" {
		s.deletions.Enqueue(scheduled)
	}
	return out, nil
}

// RestoreSecret cancels a scheduled deletion.
func (s *Service) RestoreSecret(ctx context.Context, in *api.RestoreSecretRequest) (*api.RestoreSecretResponse, error) {
	sc := overcast.ScopeOf(ctx)
	return updateAnswering(ctx, s, sc, *in.SecretId, s.lookup, func(tx store.Tx, sec *secret) (*api.RestoreSecretResponse, error) {
		out := &api.RestoreSecretResponse{ARN: new(sec.ARN), Name: new(sec.Name)}
		if !sec.scheduled() {
			return out, errNoChange
		}
		if err := tx.Delete(deletionsTable, deletionKey(*sec.DeletionDate, sc, sec.Name), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		sec.DeletionDate = nil
		return out, nil
	})
}

// DescribeSecret returns a secret's metadata, without values; it works on
// secrets scheduled for deletion too.
func (s *Service) DescribeSecret(ctx context.Context, in *api.DescribeSecretRequest) (*api.DescribeSecretResponse, error) {
	sec, err := s.readSecret(ctx, overcast.ScopeOf(ctx), *in.SecretId)
	if err != nil {
		return nil, err
	}
	e := listEntry(&sec)
	return &api.DescribeSecretResponse{
		ARN: e.ARN, Name: e.Name, Description: e.Description, KmsKeyId: e.KmsKeyId,
		LastChangedDate: e.LastChangedDate, LastAccessedDate: e.LastAccessedDate, DeletedDate: e.DeletedDate,
		Tags: e.Tags, VersionIdsToStages: e.SecretVersionsToStages, CreatedDate: e.CreatedDate,
	}, nil
}

// ListSecretVersionIds lists a secret's versions, newest first; versions
// without staging labels only with IncludeDeprecated.
func (s *Service) ListSecretVersionIds(ctx context.Context, in *api.ListSecretVersionIdsRequest) (*api.ListSecretVersionIdsResponse, error) {
	limit := awsproto.PageSize(in.MaxResults, 100)
	sec, err := s.readSecret(ctx, overcast.ScopeOf(ctx), *in.SecretId)
	if err != nil {
		return nil, err
	}
	deprecated := in.IncludeDeprecated != nil && *in.IncludeDeprecated
	var versions []secretVersion
	for i := len(sec.Versions) - 1; i >= 0; i-- {
		if len(sec.Versions[i].Stages) > 0 || deprecated {
			versions = append(versions, sec.Versions[i])
		}
	}
	start := 0
	if in.NextToken != nil && *in.NextToken != "" {
		i := slices.IndexFunc(versions, func(v secretVersion) bool { return v.ID == *in.NextToken })
		if i < 0 {
			return nil, api.NewInvalidNextTokenException("The NextToken value is invalid.")
		}
		start = i + 1
	}
	out := &api.ListSecretVersionIdsResponse{ARN: new(sec.ARN), Name: new(sec.Name), Versions: api.SecretVersionsListType{}}
	for i := start; i < len(versions); i++ {
		if len(out.Versions) == limit {
			out.NextToken = new(versions[i-1].ID)
			break
		}
		ver := versions[i]
		key := ver.KmsKeyID
		if key == "" {
			key = defaultKeyIDName
		}
		out.Versions = append(out.Versions, api.SecretVersionsListEntry{
			VersionId: new(ver.ID), VersionStages: slices.Clone(ver.Stages), CreatedDate: new(ver.Created),
			LastAccessedDate: ver.Accessed, KmsKeyIds: api.KmsKeyIdListType{key},
		})
	}
	return out, nil
}

// UpdateSecretVersionStage moves a staging label between versions.
func (s *Service) UpdateSecretVersionStage(ctx context.Context, in *api.UpdateSecretVersionStageRequest) (*api.UpdateSecretVersionStageResponse, error) {
	sc := overcast.ScopeOf(ctx)
	stage := *in.VersionStage
	return updateAnswering(ctx, s, sc, *in.SecretId, s.liveSecret, func(tx store.Tx, sec *secret) (*api.UpdateSecretVersionStageResponse, error) {
		out := &api.UpdateSecretVersionStageResponse{ARN: new(sec.ARN), Name: new(sec.Name)}
		holder := sec.withStage(stage)
		if in.RemoveFromVersionId != nil {
			from := sec.version(*in.RemoveFromVersionId)
			if from == nil {
				return nil, api.NewInvalidParameterException("The version %s doesn't exist in secret %s.", *in.RemoveFromVersionId, sec.Name)
			}
			if !slices.Contains(from.Stages, stage) {
				return nil, api.NewInvalidParameterException("The staging label %s is not attached to version %s, so it can't be removed from it.", stage, from.ID)
			}
		}
		if in.MoveToVersionId != nil {
			to := sec.version(*in.MoveToVersionId)
			if to == nil {
				return nil, api.NewInvalidParameterException("The version %s doesn't exist in secret %s.", *in.MoveToVersionId, sec.Name)
			}
			if holder != nil && holder.ID != to.ID && (in.RemoveFromVersionId == nil || *in.RemoveFromVersionId != holder.ID) {
				return nil, api.NewInvalidParameterException("The parameter RemoveFromVersionId can't be empty. Staging label %s is currently "+
					"attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", stage, holder.ID)
			}
			attachStages(sec, to.ID, []string{stage})
		} else if in.RemoveFromVersionId != nil {
			if stage == stageCurrent {
				return nil, api.NewInvalidParameterException("You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.")
			}
			from := sec.version(*in.RemoveFromVersionId)
			from.Stages = slices.DeleteFunc(from.Stages, func(s string) bool { return s == stage })
		}
		return out, pruneValues(tx, sc, sec)
	})
}

// TagResource adds or overwrites tags.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) error {
	return s.updateSecret(ctx, overcast.ScopeOf(ctx), *in.SecretId, s.liveSecret, func(_ store.Tx, sec *secret) (err error) {
		sec.Tags, err = setTags(sec.Tags, in.Tags)
		return err
	})
}

// UntagResource removes tags by key; absent keys are ignored.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) error {
	return s.updateSecret(ctx, overcast.ScopeOf(ctx), *in.SecretId, s.liveSecret, func(_ store.Tx, sec *secret) error {
		sec.Tags = slices.DeleteFunc(sec.Tags, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		return nil
	})
}
