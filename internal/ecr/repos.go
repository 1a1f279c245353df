package ecr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/ecr"
	"overcast/internal/awsproto"
	"overcast/internal/ecr/registry"
	"overcast/internal/policy"
	"overcast/internal/store"
)

// repository is a repository's record.
type repository struct {
	Name       string            `json:"name"`
	CreatedAt  time.Time         `json:"createdAt"`
	Mutability string            `json:"mutability"`
	Exclusions []exclusionFilter `json:"exclusions,omitempty"`
	ScanOnPush bool              `json:"scanOnPush,omitempty"`
	Encryption string            `json:"encryption"`
	KmsKey     string            `json:"kmsKey,omitempty"`
	Tags       []resourceTag     `json:"tags,omitempty"`
	Policy     string            `json:"policy,omitempty"`
	Lifecycle  string            `json:"lifecycle,omitempty"`
	// LifecycleEvaluatedAt is when the controller last applied Lifecycle.
	LifecycleEvaluatedAt *time.Time `json:"lifecycleEvaluatedAt,omitempty"`
}

type exclusionFilter struct {
	Type   string `json:"type"`
	Filter string `json:"filter"`
}

type resourceTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// immutable reports whether tag, once it exists, may not be moved.
func (r *repository) immutable(tag string) bool {
	matched := false
	for _, f := range r.Exclusions {
		if policy.Match(f.Filter, tag) {
			matched = true
			break
		}
	}
	switch r.Mutability {
	case api.ImageTagMutabilityIMMUTABLE:
		return true
	case api.ImageTagMutabilityIMMUTABLEWITHEXCLUSION:
		return !matched
	case api.ImageTagMutabilityMUTABLEWITHEXCLUSION:
		return matched
	}
	return false
}

func getRepo(tx store.Tx, r registry.Repo) (repository, int64, error) {
	var rec repository
	ver, err := store.GetJSON(tx, reposTable, repoKey(r), &rec)
	if errors.Is(err, store.ErrNotFound) {
		return rec, 0, repoNotFound(r)
	}
	return rec, ver, err
}

// requireName holds a new repository's name to the registry's pattern,
// the one docker's distribution spec allows, which is stricter than the
// model's (no "__" or "--"); AWS words it this way.
func requireName(name *string) (string, error) {
	n := *name
	if !registry.ValidRepositoryName(n) {
		return "", api.NewInvalidParameterException("Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '%s''", registry.RepositoryNamePattern)
	}
	return n, nil
}

// checkMutability checks how a mutability setting and its exclusion
// filters go together (the codec has checked each against the model).
func checkMutability(m *string, filters api.ImageTagMutabilityExclusionFilters) (string, []exclusionFilter, error) {
	mode := api.ImageTagMutabilityMUTABLE
	if m != nil {
		mode = *m
	}
	withExclusion := mode == api.ImageTagMutabilityIMMUTABLEWITHEXCLUSION || mode == api.ImageTagMutabilityMUTABLEWITHEXCLUSION
	if !withExclusion && len(filters) > 0 {
		return "", nil, api.NewInvalidParameterException("Invalid parameter at 'imageTagMutabilityExclusionFilters': exclusion filters can only be used with imageTagMutability IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION")
	}
	if withExclusion && len(filters) == 0 {
		return "", nil, api.NewInvalidParameterException("Invalid parameter at 'imageTagMutabilityExclusionFilters': at least one exclusion filter is required with imageTagMutability %s", mode)
	}
	var out []exclusionFilter
	for _, f := range filters {
		out = append(out, exclusionFilter{Type: *f.FilterType, Filter: *f.Filter})
	}
	return mode, out, nil
}

func exclusionsOut(fs []exclusionFilter) api.ImageTagMutabilityExclusionFilters {
	var out api.ImageTagMutabilityExclusionFilters
	for _, f := range fs {
		out = append(out, api.ImageTagMutabilityExclusionFilter{FilterType: new(f.Type), Filter: new(f.Filter)})
	}
	return out
}

const maxResourceTags = 50

func checkTags(tags api.TagList) error {
	for _, t := range tags {
		k, v := *t.Key, *t.Value
		if len(k) < 1 || len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return api.NewInvalidTagParameterException("Invalid parameter at 'tags.key' failed to satisfy constraint: 'Member must have length between 1 and 128 and must not start with aws:'")
		}
		if len(v) > 256 {
			return api.NewInvalidTagParameterException("Invalid parameter at 'tags.value' failed to satisfy constraint: 'Member must have length less than or equal to 256'")
		}
	}
	return nil
}

func setTags(tags []resourceTag, in api.TagList) []resourceTag {
	for _, t := range in {
		if i := slices.IndexFunc(tags, func(x resourceTag) bool { return x.Key == *t.Key }); i >= 0 {
			tags[i].Value = *t.Value
			continue
		}
		tags = append(tags, resourceTag{Key: *t.Key, Value: *t.Value})
	}
	return tags
}

// repositoryURI is where docker finds the repository: the registry host and
// the name for a caller of the repository's own registry, qualified with
// the registry's AWS host name for anyone else.
func (s *Service) repositoryURI(ctx context.Context, reg registryID, name string) string {
	c := overcast.CallerFrom(ctx)
	own := callerRegistry(ctx, nil)
	if c.AccountID == reg.account && own.region == reg.region {
		return s.host + "/" + name
	}
	return s.host + "/" + registry.RegistryHost(reg.account, reg.region) + "/" + name
}

func (s *Service) repoOut(ctx context.Context, reg registryID, r *repository) *api.Repository {
	out := &api.Repository{
		RepositoryArn:              new(reg.arn(r.Name)),
		RegistryId:                 new(reg.account),
		RepositoryName:             new(r.Name),
		RepositoryUri:              new(s.repositoryURI(ctx, reg, r.Name)),
		CreatedAt:                  new(r.CreatedAt),
		ImageTagMutability:         new(r.Mutability),
		ImageScanningConfiguration: &api.ImageScanningConfiguration{ScanOnPush: new(r.ScanOnPush)},
		EncryptionConfiguration:    &api.EncryptionConfiguration{EncryptionType: new(r.Encryption)},
	}
	out.ImageTagMutabilityExclusionFilters = exclusionsOut(r.Exclusions)
	if r.KmsKey != "" {
		out.EncryptionConfiguration.KmsKey = new(r.KmsKey)
	}
	return out
}

// CreateRepository creates a repository; ECR never creates one on push.
func (s *Service) CreateRepository(ctx context.Context, in *api.CreateRepositoryRequest) (*api.CreateRepositoryResponse, error) {
	reg := callerRegistry(ctx, in.RegistryId)
	if c := overcast.CallerFrom(ctx); reg.account != c.AccountID {
		return nil, api.NewInvalidParameterException("Invalid parameter at 'registryId': you can only create repositories in your own registry (%s)", c.AccountID)
	}
	name, err := requireName(in.RepositoryName)
	if err != nil {
		return nil, err
	}
	mode, filters, err := checkMutability(in.ImageTagMutability, in.ImageTagMutabilityExclusionFilters)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.Tags) > maxResourceTags {
		return nil, api.NewTooManyTagsException("Tag limit exceeded: a repository can have at most %d tags", maxResourceTags)
	}
	rec := repository{Name: name, CreatedAt: s.Now().UTC(), Mutability: mode, Exclusions: filters,
		Encryption: api.EncryptionTypeAES256, Tags: setTags(nil, in.Tags)}
	if in.ImageScanningConfiguration != nil && in.ImageScanningConfiguration.ScanOnPush != nil {
		rec.ScanOnPush = *in.ImageScanningConfiguration.ScanOnPush
	}
	if e := in.EncryptionConfiguration; e != nil {
		switch *e.EncryptionType {
		case api.EncryptionTypeAES256:
			if e.KmsKey != nil {
				return nil, api.NewInvalidParameterException("Invalid parameter at 'encryptionConfiguration': kmsKey can only be specified with encryptionType KMS or KMS_DSSE")
			}
		case api.EncryptionTypeKMS, api.EncryptionTypeKMSDSSE:
			rec.KmsKey = overcast.NewARN("kms", reg.region, reg.account, "alias/aws/ecr").String()
			if e.KmsKey != nil {
				rec.KmsKey = *e.KmsKey
			}
		}
		rec.Encryption = *e.EncryptionType
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, reposTable, reg.repoKey(name), rec, 0)
		if errors.Is(err, store.ErrConflict) {
			return api.NewRepositoryAlreadyExistsException("The repository with name '%s' already exists in the registry with id '%s'", name, reg.account)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateRepositoryResponse{Repository: s.repoOut(ctx, reg, &rec)}, nil
}

// fromToken is the store key a NextToken made by awsproto.PageToken
// carries.
func fromToken(t *string) (string, error) {
	return awsproto.PageAfter(t, api.NewInvalidParameterException("Invalid parameter at 'nextToken': the token is not one this service issued"))
}

// DescribeRepositories lists repositories, or the named ones.
func (s *Service) DescribeRepositories(ctx context.Context, in *api.DescribeRepositoriesRequest) (*api.DescribeRepositoriesResponse, error) {
	reg := callerRegistry(ctx, in.RegistryId)
	c := overcast.CallerFrom(ctx)
	if len(in.RepositoryNames) > 0 && (in.NextToken != nil || in.MaxResults != nil) {
		return nil, api.NewInvalidParameterException("Invalid parameter: nextToken and maxResults cannot be used with repositoryNames")
	}
	limit := awsproto.PageSize(in.MaxResults, 1000)
	after, err := fromToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeRepositoriesResponse{Repositories: api.RepositoryList{}}
	visible := func(name string) bool {
		return s.authorize(ctx, c, reg.repo(name), "ecr:DescribeRepositories") == nil
	}
	if len(in.RepositoryNames) > 0 {
		var recs []repository
		err := s.Store.View(ctx, func(tx store.Tx) error {
			for _, n := range in.RepositoryNames {
				rec, _, err := getRepo(tx, reg.repo(n))
				if err != nil {
					return err
				}
				recs = append(recs, rec)
			}
			return nil
		})
		if err != nil {
			return nil, apiError(err)
		}
		for i := range recs {
			if !visible(recs[i].Name) {
				return nil, apiError(denied(reg.repo(recs[i].Name), c.ARN, "ecr:DescribeRepositories"))
			}
			out.Repositories = append(out.Repositories, *s.repoOut(ctx, reg, &recs[i]))
		}
		return out, nil
	}
	var recs []repository
	var last string
	more := false
	err = s.Store.View(ctx, func(tx store.Tx) error {
		opt := store.ScanOptions{Prefix: reg.prefix()}
		if after != "" {
			opt.After = reg.prefix() + after
		}
		return store.ScanJSON(tx, reposTable, opt, func(key string, rec repository, _ int64) error {
			if len(recs) == limit {
				more = true
				return store.ErrStop
			}
			recs = append(recs, rec)
			last = rec.Name
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	for i := range recs {
		if reg.account == c.AccountID || visible(recs[i].Name) {
			out.Repositories = append(out.Repositories, *s.repoOut(ctx, reg, &recs[i]))
		}
	}
	if more {
		out.NextToken = awsproto.PageToken(last)
	}
	return out, nil
}

// DeleteRepository deletes a repository; one that still has images only
// with force, which deletes them too.
func (s *Service) DeleteRepository(ctx context.Context, in *api.DeleteRepositoryRequest) (*api.DeleteRepositoryResponse, error) {
	reg := callerRegistry(ctx, in.RegistryId)
	repo := reg.repo(*in.RepositoryName)
	if err := s.authorizeAPI(ctx, repo, "ecr:DeleteRepository"); err != nil {
		return nil, err
	}
	var rec repository
	var evs []imageEvent
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		rec, _, err = getRepo(tx, repo)
		if err != nil {
			return err
		}
		n, err := tx.Count(imagesTable, imagesPrefix(repo))
		if err != nil {
			return err
		}
		if n > 0 && !aws(in.Force) {
			return api.NewRepositoryNotEmptyException("The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", repo.Name, repo.Account)
		}
		evs = nil
		if err := s.dropRepositoryItems(tx, repo, &evs); err != nil {
			return err
		}
		if err := tx.Delete(reposTable, repoKey(repo), store.AnyVersion); err != nil {
			return err
		}
		return s.publishImageEvents(ctx, tx, evs)
	})
	if err != nil {
		return nil, apiError(err)
	}
	s.notify()
	return &api.DeleteRepositoryResponse{Repository: s.repoOut(ctx, reg, &rec)}, nil
}

// dropRepositoryItems deletes every image, tag, link and referrer of a
// repository; content is left to the garbage collector.
func (s *Service) dropRepositoryItems(tx store.Tx, repo registry.Repo, evs *[]imageEvent) error {
	var digests []string
	err := store.ScanJSON(tx, imagesTable, store.ScanOptions{Prefix: imagesPrefix(repo)}, func(key string, img image, _ int64) error {
		digests = append(digests, img.Digest)
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range digests {
		if err := s.deleteImage(tx, repo, d, evs); err != nil {
			return err
		}
	}
	for _, table := range []string{layersTable, referrersTable} {
		if err := deletePrefix(tx, table, imagesPrefix(repo)); err != nil {
			return err
		}
	}
	if err := tx.Delete(previewsTable, repoKey(repo), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

func deletePrefix(tx store.Tx, table, prefix string) error {
	_, err := store.DeleteScanned(tx, table, store.ScanOptions{Prefix: prefix})
	return err
}

func aws(b *bool) bool { return b != nil && *b }

// authorizedRepo is the repository a request names (in the caller's
// registry unless registryId says otherwise), once the caller is allowed
// action on it.
func (s *Service) authorizedRepo(ctx context.Context, registryID *string, name, action string) (registry.Repo, error) {
	repo := callerRegistry(ctx, registryID).repo(name)
	return repo, s.authorizeAPI(ctx, repo, action)
}

// authorizeAPI checks the caller may act on repo (another account's needs
// its policy).
func (s *Service) authorizeAPI(ctx context.Context, repo registry.Repo, action string) error {
	c := overcast.CallerFrom(ctx)
	return apiError(s.authorize(ctx, c, repo, action))
}

// readRepo reads a repository's record for an action the caller must be
// allowed.
func (s *Service) readRepo(ctx context.Context, repo registry.Repo, action string) (repository, error) {
	if err := s.authorizeAPI(ctx, repo, action); err != nil {
		return repository{}, err
	}
	var rec repository
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		rec, _, err = getRepo(tx, repo)
		return err
	})
	return rec, apiError(err)
}

// updateRepo runs fn on a repository's record and saves it.
func (s *Service) updateRepo(ctx context.Context, repo registry.Repo, action string, fn func(rec *repository) error) (repository, error) {
	if err := s.authorizeAPI(ctx, repo, action); err != nil {
		return repository{}, err
	}
	var rec repository
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var ver int64
		var err error
		rec, ver, err = getRepo(tx, repo)
		if err != nil {
			return err
		}
		if err := fn(&rec); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, reposTable, repoKey(repo), rec, ver)
		return err
	})
	return rec, apiError(err)
}

// PutImageTagMutability changes whether tags can be overwritten.
func (s *Service) PutImageTagMutability(ctx context.Context, in *api.PutImageTagMutabilityRequest) (*api.PutImageTagMutabilityResponse, error) {
	reg := callerRegistry(ctx, in.RegistryId)
	mode, filters, err := checkMutability(in.ImageTagMutability, in.ImageTagMutabilityExclusionFilters)
	if err != nil {
		return nil, err
	}
	rec, err := s.updateRepo(ctx, reg.repo(*in.RepositoryName), "ecr:PutImageTagMutability", func(rec *repository) error {
		rec.Mutability, rec.Exclusions = mode, filters
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.PutImageTagMutabilityResponse{RegistryId: new(reg.account), RepositoryName: new(rec.Name),
		ImageTagMutability: new(rec.Mutability), ImageTagMutabilityExclusionFilters: exclusionsOut(rec.Exclusions)}, nil
}

// PutImageScanningConfiguration sets scan on push.
func (s *Service) PutImageScanningConfiguration(ctx context.Context, in *api.PutImageScanningConfigurationRequest) (*api.PutImageScanningConfigurationResponse, error) {
	reg := callerRegistry(ctx, in.RegistryId)
	scan := aws(in.ImageScanningConfiguration.ScanOnPush)
	rec, err := s.updateRepo(ctx, reg.repo(*in.RepositoryName), "ecr:PutImageScanningConfiguration", func(rec *repository) error {
		rec.ScanOnPush = scan
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.PutImageScanningConfigurationResponse{RegistryId: new(reg.account), RepositoryName: new(rec.Name),
		ImageScanningConfiguration: &api.ImageScanningConfiguration{ScanOnPush: new(rec.ScanOnPush)}}, nil
}

// BatchGetRepositoryScanningConfiguration reports scan-on-push per
// repository (basic scanning).
func (s *Service) BatchGetRepositoryScanningConfiguration(ctx context.Context, in *api.BatchGetRepositoryScanningConfigurationRequest) (*api.BatchGetRepositoryScanningConfigurationResponse, error) {
	reg := callerRegistry(ctx, nil)
	out := &api.BatchGetRepositoryScanningConfigurationResponse{ScanningConfigurations: api.RepositoryScanningConfigurationList{}, Failures: api.RepositoryScanningConfigurationFailureList{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		for _, n := range in.RepositoryNames {
			rec, _, err := getRepo(tx, reg.repo(n))
			if err != nil {
				var de *domainError
				if errors.As(err, &de) {
					out.Failures = append(out.Failures, api.RepositoryScanningConfigurationFailure{RepositoryName: new(n),
						FailureCode: new(api.ScanningConfigurationFailureCodeREPOSITORYNOTFOUND), FailureReason: new("REPOSITORY_NOT_FOUND")})
					continue
				}
				return err
			}
			freq := api.ScanFrequencyMANUAL
			if rec.ScanOnPush {
				freq = api.ScanFrequencySCANONPUSH
			}
			out.ScanningConfigurations = append(out.ScanningConfigurations, api.RepositoryScanningConfiguration{
				RepositoryArn: new(reg.arn(n)), RepositoryName: new(n), ScanOnPush: new(rec.ScanOnPush), ScanFrequency: new(freq),
				AppliedScanFilters: api.ScanningRepositoryFilterList{}})
		}
		return nil
	})
	return out, err
}

// DescribeRegistry answers with the registry's ID; replication is not
// supported.
func (s *Service) DescribeRegistry(ctx context.Context, in *api.DescribeRegistryRequest) (*api.DescribeRegistryResponse, error) {
	reg := callerRegistry(ctx, nil)
	return &api.DescribeRegistryResponse{RegistryId: new(reg.account),
		ReplicationConfiguration: &api.ReplicationConfiguration{Rules: api.ReplicationRuleList{}}}, nil
}

// resourceRepo resolves a repository ARN of the caller's region.
func resourceRepo(arn string) (registry.Repo, error) {
	a, ok := overcast.ParseARN(arn)
	if !ok || a.Service != "ecr" || !strings.HasPrefix(a.Resource, "repository/") {
		return registry.Repo{}, api.NewInvalidParameterException("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN %s'", arn)
	}
	return registry.Repo{Account: a.AccountID, Region: a.Region, Name: strings.TrimPrefix(a.Resource, "repository/")}, nil
}

// changeTags runs change on the tags of the repository arn names. AWS
// checks the ARN before the tags, so invalid (what checking the new tags
// found, if anything) refuses the change only after that.
func (s *Service) changeTags(ctx context.Context, arn, action string, invalid error, change func(rec *repository) error) error {
	repo, err := resourceRepo(arn)
	if err != nil {
		return err
	}
	if invalid != nil {
		return invalid
	}
	_, err = s.updateRepo(ctx, repo, action, change)
	return err
}

// TagResource adds or overwrites a repository's tags.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) (*api.TagResourceResponse, error) {
	err := s.changeTags(ctx, *in.ResourceArn, "ecr:TagResource", checkTags(in.Tags), func(rec *repository) error {
		rec.Tags = setTags(rec.Tags, in.Tags)
		if len(rec.Tags) > maxResourceTags {
			return api.NewTooManyTagsException("Tag limit exceeded: a repository can have at most %d tags", maxResourceTags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.TagResourceResponse{}, nil
}

// UntagResource removes tags by key.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) (*api.UntagResourceResponse, error) {
	err := s.changeTags(ctx, *in.ResourceArn, "ecr:UntagResource", nil, func(rec *repository) error {
		rec.Tags = slices.DeleteFunc(rec.Tags, func(t resourceTag) bool { return slices.Contains(in.TagKeys, t.Key) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UntagResourceResponse{}, nil
}

// ListTagsForResource lists a repository's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	repo, err := resourceRepo(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	rec, err := s.readRepo(ctx, repo, "ecr:ListTagsForResource")
	if err != nil {
		return nil, err
	}
	out := &api.ListTagsForResourceResponse{Tags: api.TagList{}}
	for _, t := range rec.Tags {
		out.Tags = append(out.Tags, api.Tag{Key: new(t.Key), Value: new(t.Value)})
	}
	return out, nil
}

// SetRepositoryPolicy sets the policy other accounts are admitted by.
func (s *Service) SetRepositoryPolicy(ctx context.Context, in *api.SetRepositoryPolicyRequest) (*api.SetRepositoryPolicyResponse, error) {
	reg := callerRegistry(ctx, in.RegistryId)
	if _, err := checkRepoPolicy(*in.PolicyText); err != nil {
		return nil, err
	}
	rec, err := s.updateRepo(ctx, reg.repo(*in.RepositoryName), "ecr:SetRepositoryPolicy", func(rec *repository) error {
		rec.Policy = *in.PolicyText
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.SetRepositoryPolicyResponse{RegistryId: new(reg.account), RepositoryName: new(rec.Name), PolicyText: new(rec.Policy)}, nil
}

func policyNotFound(repo registry.Repo) error {
	return api.NewRepositoryPolicyNotFoundException("Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", repo.Name, repo.Account)
}

// GetRepositoryPolicy returns the policy.
func (s *Service) GetRepositoryPolicy(ctx context.Context, in *api.GetRepositoryPolicyRequest) (*api.GetRepositoryPolicyResponse, error) {
	reg := callerRegistry(ctx, in.RegistryId)
	repo := reg.repo(*in.RepositoryName)
	rec, err := s.readRepo(ctx, repo, "ecr:GetRepositoryPolicy")
	if err != nil {
		return nil, err
	}
	if rec.Policy == "" {
		return nil, policyNotFound(repo)
	}
	return &api.GetRepositoryPolicyResponse{RegistryId: new(reg.account), RepositoryName: new(rec.Name), PolicyText: new(rec.Policy)}, nil
}

// DeleteRepositoryPolicy removes the policy and returns it.
func (s *Service) DeleteRepositoryPolicy(ctx context.Context, in *api.DeleteRepositoryPolicyRequest) (*api.DeleteRepositoryPolicyResponse, error) {
	reg := callerRegistry(ctx, in.RegistryId)
	repo := reg.repo(*in.RepositoryName)
	var old string
	_, err := s.updateRepo(ctx, repo, "ecr:DeleteRepositoryPolicy", func(rec *repository) error {
		if rec.Policy == "" {
			return policyNotFound(repo)
		}
		old, rec.Policy = rec.Policy, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteRepositoryPolicyResponse{RegistryId: new(reg.account), RepositoryName: new(repo.Name), PolicyText: new(old)}, nil
}

// Catalog implements registry.Backend: the repositories of the token's
// registry.
func (s *Service) Catalog(ctx context.Context, id registry.Identity, last string, n int) ([]string, error) {
	reg := registryID{id.Account, id.Region}
	var names []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		opt := store.ScanOptions{Prefix: reg.prefix(), Limit: n}
		if last != "" {
			opt.After = reg.prefix() + last
		}
		return tx.Scan(reposTable, opt, func(it store.Item) error {
			names = append(names, strings.TrimPrefix(it.Key, reg.prefix()))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("ecr: catalog: %w", err)
	}
	return names, nil
}
