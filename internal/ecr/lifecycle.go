package ecr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	api "overcast/internal/api/ecr"
	"overcast/internal/awsproto"
	"overcast/internal/ecr/registry"
	"overcast/internal/policy"
	"overcast/internal/store"
)

// lifecyclePolicy is a parsed, valid lifecycle policy.
type lifecyclePolicy struct {
	Rules []lifecycleRule `json:"rules"`
}

type lifecycleRule struct {
	RulePriority *int                `json:"rulePriority"`
	Description  string              `json:"description"`
	Selection    *lifecycleSelection `json:"selection"`
	Action       *struct {
		Type string `json:"type"`
	} `json:"action"`
}

type lifecycleSelection struct {
	TagStatus      string   `json:"tagStatus"`
	TagPrefixList  []string `json:"tagPrefixList"`
	TagPatternList []string `json:"tagPatternList"`
	CountType      string   `json:"countType"`
	CountUnit      string   `json:"countUnit"`
	CountNumber    *int     `json:"countNumber"`
}

func (r *lifecycleRule) priority() int { return *r.RulePriority }

func invalidLifecycle(format string, args ...any) error {
	return api.NewInvalidParameterException("Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: %s'", fmt.Sprintf(format, args...))
}

// parseLifecyclePolicy validates a policy with ECR's rules, naming the
// first problem found.
func parseLifecyclePolicy(text string) (*lifecyclePolicy, error) {
	if strings.TrimSpace(text) == "" {
		return nil, invalidLifecycle("the policy is empty")
	}
	if len(text) > 30720 {
		return nil, invalidLifecycle("the policy is longer than 30720 characters")
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	var p lifecyclePolicy
	if err := dec.Decode(&p); err != nil {
		return nil, invalidLifecycle("the policy is not valid JSON of the lifecycle policy format: %v", err)
	}
	if dec.More() {
		return nil, invalidLifecycle("unexpected data after the policy object")
	}
	if len(p.Rules) == 0 {
		return nil, invalidLifecycle("\"rules\" is required and must hold at least one rule")
	}
	seen := map[int]bool{}
	untagged, anyRule, maxPriority := 0, -1, 0
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.RulePriority == nil {
			return nil, invalidLifecycle("rule %d: \"rulePriority\" is required", i+1)
		}
		prio := *r.RulePriority
		if prio < 1 || prio > 999 {
			return nil, invalidLifecycle("rulePriority %d must be between 1 and 999", prio)
		}
		if seen[prio] {
			return nil, invalidLifecycle("rulePriority %d is used by more than one rule: rule priorities must be unique", prio)
		}
		seen[prio] = true
		maxPriority = max(maxPriority, prio)
		if r.Action == nil || r.Action.Type != "expire" {
			return nil, invalidLifecycle("rulePriority %d: \"action\" must be {\"type\": \"expire\"}", prio)
		}
		sel := r.Selection
		if sel == nil {
			return nil, invalidLifecycle("rulePriority %d: \"selection\" is required", prio)
		}
		switch sel.TagStatus {
		case "tagged":
			if len(sel.TagPrefixList) == 0 && len(sel.TagPatternList) == 0 {
				return nil, invalidLifecycle("rulePriority %d: tagPrefixList or tagPatternList is required when tagStatus is tagged", prio)
			}
			if len(sel.TagPrefixList) > 0 && len(sel.TagPatternList) > 0 {
				return nil, invalidLifecycle("rulePriority %d: tagPrefixList and tagPatternList cannot both be used in one rule", prio)
			}
		case "untagged", "any":
			if len(sel.TagPrefixList) > 0 || len(sel.TagPatternList) > 0 {
				return nil, invalidLifecycle("rulePriority %d: tagPrefixList and tagPatternList can only be used when tagStatus is tagged", prio)
			}
			if sel.TagStatus == "untagged" {
				untagged++
			} else {
				anyRule = prio
			}
		default:
			return nil, invalidLifecycle("rulePriority %d: tagStatus must be one of tagged, untagged, any (got %q)", prio, sel.TagStatus)
		}
		for _, pfx := range sel.TagPrefixList {
			if pfx == "" {
				return nil, invalidLifecycle("rulePriority %d: tagPrefixList entries cannot be empty", prio)
			}
		}
		for _, pat := range sel.TagPatternList {
			if pat == "" {
				return nil, invalidLifecycle("rulePriority %d: tagPatternList entries cannot be empty", prio)
			}
			if strings.Count(pat, "*") > 4 {
				return nil, invalidLifecycle("rulePriority %d: tagPatternList entry %q has more than 4 wildcard (*) characters", prio, pat)
			}
		}
		if sel.CountNumber == nil || *sel.CountNumber < 1 {
			return nil, invalidLifecycle("rulePriority %d: countNumber is required and must be a positive integer", prio)
		}
		switch sel.CountType {
		case "imageCountMoreThan":
			if sel.CountUnit != "" {
				return nil, invalidLifecycle("rulePriority %d: countUnit cannot be used with countType imageCountMoreThan", prio)
			}
		case "sinceImagePushed":
			if sel.CountUnit != "days" {
				return nil, invalidLifecycle("rulePriority %d: countUnit must be days with countType sinceImagePushed", prio)
			}
		default:
			return nil, invalidLifecycle("rulePriority %d: countType must be imageCountMoreThan or sinceImagePushed (got %q)", prio, sel.CountType)
		}
	}
	if untagged > 1 {
		return nil, invalidLifecycle("only one rule can select untagged images")
	}
	if anyRule >= 0 && anyRule != maxPriority {
		return nil, invalidLifecycle("the rule with tagStatus any (rulePriority %d) must have the highest rulePriority of the policy (%d)", anyRule, maxPriority)
	}
	sort.Slice(p.Rules, func(i, j int) bool { return p.Rules[i].priority() < p.Rules[j].priority() })
	return &p, nil
}

// lcImage is what lifecycle rules look at.
type lcImage struct {
	Digest   string
	Tags     []string
	PushedAt time.Time
}

func (sel *lifecycleSelection) matches(img *lcImage) bool {
	switch sel.TagStatus {
	case "untagged":
		return len(img.Tags) == 0
	case "any":
		return true
	}
	if len(img.Tags) == 0 {
		return false
	}
	// Every prefix (or pattern) must be matched by one of the tags.
	for _, pfx := range sel.TagPrefixList {
		if !slices.ContainsFunc(img.Tags, func(t string) bool { return strings.HasPrefix(t, pfx) }) {
			return false
		}
	}
	for _, pat := range sel.TagPatternList {
		if !slices.ContainsFunc(img.Tags, func(t string) bool { return policy.Match(pat, t) }) {
			return false
		}
	}
	return true
}

// evaluate applies a policy the way ECR does: every rule picks the images
// its selection matches, newest first, and marks for expiry those beyond
// its count or older than its age; rules apply in ascending priority, an
// image is expired by at most one rule, and an image a rule has matched
// cannot be expired by a rule of lower priority. It returns the digests to
// expire with the priority of the rule that expires each.
func evaluate(p *lifecyclePolicy, imgs []lcImage, now time.Time) map[string]int {
	sorted := slices.Clone(imgs)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].PushedAt.Equal(sorted[j].PushedAt) {
			return sorted[i].PushedAt.After(sorted[j].PushedAt)
		}
		return sorted[i].Digest > sorted[j].Digest
	})
	claimed := map[string]bool{}
	expire := map[string]int{}
	for i := range p.Rules {
		r := &p.Rules[i]
		sel := r.Selection
		var matched []*lcImage
		for j := range sorted {
			if sel.matches(&sorted[j]) {
				matched = append(matched, &sorted[j])
			}
		}
		n := *sel.CountNumber
		for k, img := range matched {
			var expired bool
			switch sel.CountType {
			case "imageCountMoreThan":
				expired = k >= n
			case "sinceImagePushed":
				expired = now.Sub(img.PushedAt) > time.Duration(n)*24*time.Hour
			}
			if expired && !claimed[img.Digest] {
				expire[img.Digest] = r.priority()
			}
		}
		for _, img := range matched {
			claimed[img.Digest] = true
		}
	}
	return expire
}

func lifecycleNotFound(repo registry.Repo) error {
	return api.NewLifecyclePolicyNotFoundException("Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", repo.Name, repo.Account)
}

// PutLifecyclePolicy validates and sets a repository's lifecycle policy.
func (s *Service) PutLifecyclePolicy(ctx context.Context, in *api.PutLifecyclePolicyRequest) (*api.PutLifecyclePolicyResponse, error) {
	repo := callerRegistry(ctx, in.RegistryId).repo(*in.RepositoryName)
	if _, err := parseLifecyclePolicy(*in.LifecyclePolicyText); err != nil {
		return nil, err
	}
	_, err := s.updateRepo(ctx, repo, "ecr:PutLifecyclePolicy", func(rec *repository) error {
		rec.Lifecycle = *in.LifecyclePolicyText
		rec.LifecycleEvaluatedAt = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.PutLifecyclePolicyResponse{RegistryId: new(repo.Account), RepositoryName: new(repo.Name), LifecyclePolicyText: in.LifecyclePolicyText}, nil
}

// GetLifecyclePolicy returns the policy and when it was last applied.
func (s *Service) GetLifecyclePolicy(ctx context.Context, in *api.GetLifecyclePolicyRequest) (*api.GetLifecyclePolicyResponse, error) {
	repo := callerRegistry(ctx, in.RegistryId).repo(*in.RepositoryName)
	rec, err := s.readRepo(ctx, repo, "ecr:GetLifecyclePolicy")
	if err != nil {
		return nil, err
	}
	if rec.Lifecycle == "" {
		return nil, lifecycleNotFound(repo)
	}
	return &api.GetLifecyclePolicyResponse{RegistryId: new(repo.Account), RepositoryName: new(repo.Name),
		LifecyclePolicyText: new(rec.Lifecycle), LastEvaluatedAt: rec.LifecycleEvaluatedAt}, nil
}

// DeleteLifecyclePolicy removes the policy and returns it.
func (s *Service) DeleteLifecyclePolicy(ctx context.Context, in *api.DeleteLifecyclePolicyRequest) (*api.DeleteLifecyclePolicyResponse, error) {
	repo := callerRegistry(ctx, in.RegistryId).repo(*in.RepositoryName)
	var old repository
	_, err := s.updateRepo(ctx, repo, "ecr:DeleteLifecyclePolicy", func(rec *repository) error {
		if rec.Lifecycle == "" {
			return lifecycleNotFound(repo)
		}
		old = *rec
		rec.Lifecycle, rec.LifecycleEvaluatedAt = "", nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteLifecyclePolicyResponse{RegistryId: new(repo.Account), RepositoryName: new(repo.Name),
		LifecyclePolicyText: new(old.Lifecycle), LastEvaluatedAt: old.LifecycleEvaluatedAt}, nil
}

// preview is the stored result of StartLifecyclePolicyPreview.
type preview struct {
	Policy  string          `json:"policy"`
	Status  string          `json:"status"`
	Results []previewResult `json:"results"`
}

type previewResult struct {
	Digest   string    `json:"digest"`
	Tags     []string  `json:"tags,omitempty"`
	PushedAt time.Time `json:"pushedAt"`
	Rule     int       `json:"rule"`
}

// lifecycleImages reads what lifecycle rules need of a repository's images.
func lifecycleImages(tx store.Tx, repo registry.Repo) ([]lcImage, error) {
	var out []lcImage
	err := store.ScanJSON(tx, imagesTable, store.ScanOptions{Prefix: imagesPrefix(repo)}, func(_ string, img image, _ int64) error {
		out = append(out, lcImage{Digest: img.Digest, Tags: img.Tags, PushedAt: img.PushedAt})
		return nil
	})
	return out, err
}

// StartLifecyclePolicyPreview evaluates a policy (the given one, or the
// repository's) against the images without expiring anything. It runs to
// completion at once; GetLifecyclePolicyPreview reports it COMPLETE.
func (s *Service) StartLifecyclePolicyPreview(ctx context.Context, in *api.StartLifecyclePolicyPreviewRequest) (*api.StartLifecyclePolicyPreviewResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, "ecr:StartLifecyclePolicyPreview")
	if err != nil {
		return nil, err
	}
	text := str(in.LifecyclePolicyText)
	var p *lifecyclePolicy
	if text != "" {
		var err error
		if p, err = parseLifecyclePolicy(text); err != nil {
			return nil, err
		}
	}
	now := s.Now()
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		rec, _, err := getRepo(tx, repo)
		if err != nil {
			return err
		}
		if p == nil {
			if rec.Lifecycle == "" {
				return lifecycleNotFound(repo)
			}
			text = rec.Lifecycle
			if p, err = parseLifecyclePolicy(text); err != nil {
				return err
			}
		}
		imgs, err := lifecycleImages(tx, repo)
		if err != nil {
			return err
		}
		exp := evaluate(p, imgs, now)
		pv := preview{Policy: text, Status: api.LifecyclePolicyPreviewStatusCOMPLETE, Results: []previewResult{}}
		for _, img := range imgs {
			if rule, ok := exp[img.Digest]; ok {
				pv.Results = append(pv.Results, previewResult{Digest: img.Digest, Tags: img.Tags, PushedAt: img.PushedAt, Rule: rule})
			}
		}
		sort.Slice(pv.Results, func(i, j int) bool { return pv.Results[i].PushedAt.Before(pv.Results[j].PushedAt) })
		_, err = store.PutJSON(tx, previewsTable, repoKey(repo), pv, store.AnyVersion)
		return err
	})
	if err != nil {
		return nil, apiError(err)
	}
	return &api.StartLifecyclePolicyPreviewResponse{RegistryId: new(repo.Account), RepositoryName: new(repo.Name),
		LifecyclePolicyText: new(text), Status: new(api.LifecyclePolicyPreviewStatusINPROGRESS)}, nil
}

// GetLifecyclePolicyPreview returns the last preview's results.
func (s *Service) GetLifecyclePolicyPreview(ctx context.Context, in *api.GetLifecyclePolicyPreviewRequest) (*api.GetLifecyclePolicyPreviewResponse, error) {
	repo, err := s.authorizedRepo(ctx, in.RegistryId, *in.RepositoryName, "ecr:GetLifecyclePolicyPreview")
	if err != nil {
		return nil, err
	}
	limit := awsproto.PageSize(in.MaxResults, 100)
	status := api.TagStatusANY
	if in.Filter != nil {
		status = tagStatusOr(in.Filter.TagStatus)
	}
	start := 0
	if tok, err := fromToken(in.NextToken); err != nil {
		return nil, err
	} else if tok != "" {
		if start, err = strconv.Atoi(tok); err != nil || start < 0 {
			return nil, api.NewInvalidParameterException("Invalid parameter at 'nextToken': the token is not one this service issued")
		}
	}
	var pv preview
	err = s.Store.View(ctx, func(tx store.Tx) error {
		if _, _, err := getRepo(tx, repo); err != nil {
			return err
		}
		_, err := store.GetJSON(tx, previewsTable, repoKey(repo), &pv)
		if errors.Is(err, store.ErrNotFound) {
			return api.NewLifecyclePolicyPreviewNotFoundException("There is no dry run for this repository with name '%s' in the registry with id '%s'", repo.Name, repo.Account)
		}
		return err
	})
	if err != nil {
		return nil, apiError(err)
	}
	var results []previewResult
	for _, r := range pv.Results {
		img := image{Tags: r.Tags}
		if !tagStatusMatches(status, &img) {
			continue
		}
		if len(in.ImageIds) > 0 && !slices.ContainsFunc(in.ImageIds, func(id api.ImageIdentifier) bool {
			return str(id.ImageDigest) == r.Digest || (id.ImageTag != nil && slices.Contains(r.Tags, *id.ImageTag))
		}) {
			continue
		}
		results = append(results, r)
	}
	out := &api.GetLifecyclePolicyPreviewResponse{RegistryId: new(repo.Account), RepositoryName: new(repo.Name),
		LifecyclePolicyText: new(pv.Policy), Status: new(pv.Status), PreviewResults: api.LifecyclePolicyPreviewResultList{},
		Summary: &api.LifecyclePolicyPreviewSummary{ExpiringImageTotalCount: new(int32(len(results)))}}
	end := min(start+limit, len(results))
	for _, r := range results[min(start, len(results)):end] {
		pr := api.LifecyclePolicyPreviewResult{ImageDigest: new(r.Digest), ImagePushedAt: new(r.PushedAt),
			Action: &api.LifecyclePolicyRuleAction{Type: new(api.ImageActionTypeEXPIRE)}, AppliedRulePriority: new(int32(r.Rule))}
		if len(r.Tags) > 0 {
			pr.ImageTags = slices.Clone(r.Tags)
		}
		out.PreviewResults = append(out.PreviewResults, pr)
	}
	if end < len(results) {
		out.NextToken = awsproto.PageToken(strconv.Itoa(end))
	}
	return out, nil
}

// ApplyLifecyclePolicies expires, in every repository that has a policy,
// the images the policy selects. The controller calls it hourly (by the
// clock); it returns the number of images expired.
func (s *Service) ApplyLifecyclePolicies(ctx context.Context) (int, error) {
	type target struct {
		repo   registry.Repo
		policy string
	}
	var targets []target
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, reposTable, store.ScanOptions{}, func(key string, rec repository, _ int64) error {
			if rec.Lifecycle == "" {
				return nil
			}
			parts := strings.SplitN(key, "/", 3)
			if len(parts) == 3 {
				targets = append(targets, target{registry.Repo{Account: parts[0], Region: parts[1], Name: parts[2]}, rec.Lifecycle})
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range targets {
		n, err := s.applyLifecycle(ctx, t.repo, t.policy)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

func (s *Service) applyLifecycle(ctx context.Context, repo registry.Repo, text string) (int, error) {
	p, err := parseLifecyclePolicy(text)
	if err != nil {
		return 0, nil // stored before a stricter validator; leave it be
	}
	now := s.Now()
	n := 0
	var evs []imageEvent
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		n, evs = 0, nil
		rec, ver, err := getRepo(tx, repo)
		var de *domainError
		if errors.As(err, &de) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		if rec.Lifecycle != text {
			return nil // changed meanwhile: the next pass applies the new one
		}
		imgs, err := lifecycleImages(tx, repo)
		if err != nil {
			return err
		}
		for d := range evaluate(p, imgs, now) {
			parents, err := referencedBy(tx, repo, d)
			if err != nil {
				return err
			}
			if len(parents) > 0 {
				continue // an index still needs it
			}
			if err := s.deleteImage(tx, repo, d, &evs); err != nil {
				return err
			}
			n++
		}
		rec.LifecycleEvaluatedAt = new(now.UTC())
		if _, err := store.PutJSON(tx, reposTable, repoKey(repo), rec, ver); err != nil {
			return err
		}
		return s.publishImageEvents(ctx, tx, evs)
	})
	if err == nil && len(evs) > 0 {
		s.notify()
	}
	return n, err
}
