package codecommit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/git"
	"overcast/internal/service"
	"overcast/internal/store"
)

const (
	// pullRequestsTable holds the pull requests, keyed by scope and ID.
	pullRequestsTable = "codecommit.pullRequests"
	// pullRequestTokensTable maps a clientRequestToken to the pull request it created.
	pullRequestTokensTable = "codecommit.pullRequestTokens"
	// countersTable holds each scope's last pull request and comment numbers.
	countersTable = "codecommit.counters"
)

// Limits AWS sets.
const (
	maxTitleLength       = 150
	maxDescriptionLength = 10240
	maxRulesPerPR        = 25
	maxPageSize          = 100
)

const (
	statusOpen   = "OPEN"
	statusClosed = "CLOSED"
)

// Pull request event types.
const (
	eventCreated            = "PULL_REQUEST_CREATED"
	eventStatusChanged      = "PULL_REQUEST_STATUS_CHANGED"
	eventSourceUpdated      = "PULL_REQUEST_SOURCE_REFERENCE_UPDATED"
	eventMergeStateChanged  = "PULL_REQUEST_MERGE_STATE_CHANGED"
	eventRuleCreated        = "PULL_REQUEST_APPROVAL_RULE_CREATED"
	eventRuleUpdated        = "PULL_REQUEST_APPROVAL_RULE_UPDATED"
	eventRuleDeleted        = "PULL_REQUEST_APPROVAL_RULE_DELETED"
	eventRuleOverridden     = "PULL_REQUEST_APPROVAL_RULE_OVERRIDDEN"
	eventApprovalStateChang = "PULL_REQUEST_APPROVAL_STATE_CHANGED"
)

// pullRequest is a pull request as stored.
type pullRequest struct {
	ID                 string         `json:"id"`
	Title              string         `json:"title"`
	Description        string         `json:"description,omitempty"`
	Status             string         `json:"status"`
	Author             string         `json:"author"`
	Created            time.Time      `json:"created"`
	LastActivity       time.Time      `json:"lastActivity"`
	ClientRequestToken string         `json:"clientRequestToken,omitempty"`
	RevisionID         string         `json:"revisionId"`
	Targets            []prTarget     `json:"targets"`
	Rules              []approvalRule `json:"rules,omitempty"`
	// Approvals are by approver ARN, for the revision each was given on.
	Approvals  []approval             `json:"approvals,omitempty"`
	Overrider  string                 `json:"overrider,omitempty"` // set while the rules are overridden
	OverrideOn string                 `json:"overrideOn,omitempty"`
	Events     []api.PullRequestEvent `json:"events"`
}

type prTarget struct {
	Repository        string `json:"repository"`
	SourceRef         string `json:"sourceRef"` // full reference names
	DestinationRef    string `json:"destinationRef"`
	SourceCommit      string `json:"sourceCommit"`
	DestinationCommit string `json:"destinationCommit"`
	MergeBase         string `json:"mergeBase,omitempty"`
	Merged            bool   `json:"merged,omitempty"`
	MergedBy          string `json:"mergedBy,omitempty"`
	MergeCommit       string `json:"mergeCommit,omitempty"`
	MergeOption       string `json:"mergeOption,omitempty"`
}

type approvalRule struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Content          string    `json:"content"`
	Created          time.Time `json:"created"`
	Modified         time.Time `json:"modified"`
	LastModifiedUser string    `json:"lastModifiedUser"`
	TemplateID       string    `json:"templateId,omitempty"`
	TemplateName     string    `json:"templateName,omitempty"`
}

type approval struct {
	User     string `json:"user"`
	Revision string `json:"revision"`
}

func contentSHA256(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

func (r *approvalRule) api() api.ApprovalRule {
	out := api.ApprovalRule{
		ApprovalRuleId: new(r.ID), ApprovalRuleName: new(r.Name), ApprovalRuleContent: new(r.Content),
		RuleContentSha256: new(contentSHA256(r.Content)), CreationDate: new(r.Created), LastModifiedDate: new(r.Modified),
		LastModifiedUser: new(r.LastModifiedUser),
	}
	if r.TemplateID != "" {
		out.OriginApprovalRuleTemplate = &api.OriginApprovalRuleTemplate{ApprovalRuleTemplateId: new(r.TemplateID), ApprovalRuleTemplateName: new(r.TemplateName)}
	}
	return out
}

func (pr *pullRequest) api() *api.PullRequest {
	out := &api.PullRequest{
		PullRequestId: new(pr.ID), Title: new(pr.Title), Description: service.OmitZero(pr.Description),
		LastActivityDate: new(pr.LastActivity), CreationDate: new(pr.Created), PullRequestStatus: new(pr.Status),
		AuthorArn: new(pr.Author), ClientRequestToken: service.OmitZero(pr.ClientRequestToken), RevisionId: new(pr.RevisionID),
		PullRequestTargets: api.PullRequestTargetList{}, ApprovalRules: api.ApprovalRulesList{},
	}
	for _, t := range pr.Targets {
		out.PullRequestTargets = append(out.PullRequestTargets, api.PullRequestTarget{
			RepositoryName: new(t.Repository), SourceReference: new(t.SourceRef), DestinationReference: new(t.DestinationRef),
			SourceCommit: new(t.SourceCommit), DestinationCommit: new(t.DestinationCommit), MergeBase: service.OmitZero(t.MergeBase),
			MergeMetadata: t.mergeMetadata(),
		})
	}
	for i := range pr.Rules {
		out.ApprovalRules = append(out.ApprovalRules, pr.Rules[i].api())
	}
	return out
}

func (t *prTarget) mergeMetadata() *api.MergeMetadata {
	return &api.MergeMetadata{IsMerged: new(t.Merged), MergedBy: service.OmitZero(t.MergedBy),
		MergeCommitId: service.OmitZero(t.MergeCommit), MergeOption: service.OmitZero(t.MergeOption)}
}

// addEvent records an event by the caller.
func (s *Service) addEvent(ctx context.Context, pr *pullRequest, typ string, fill func(*api.PullRequestEvent)) {
	now := s.Now()
	ev := api.PullRequestEvent{PullRequestId: new(pr.ID), EventDate: new(now), PullRequestEventType: new(typ),
		ActorArn: new(overcast.CallerFrom(ctx).ARN)}
	if fill != nil {
		fill(&ev)
	}
	pr.Events = append(pr.Events, ev)
	pr.LastActivity = now
}

// revisionID names a pull request's state of its source and destination.
func (s *Service) newRevision(pr *pullRequest) {
	pr.RevisionID = contentSHA256(pr.ID + "/" + s.IDs.UUID())
}

// nextNumber allocates the scope's next pull request or comment number.
func nextNumber(tx store.Tx, sc scope, counter string) (string, error) {
	var n int64
	ver, err := store.GetJSON(tx, countersTable, sc.Key(counter), &n)
	if errors.Is(err, store.ErrNotFound) {
		ver, err = 0, nil
	}
	if err != nil {
		return "", err
	}
	n++
	if _, err := store.PutJSON(tx, countersTable, sc.Key(counter), n, ver); err != nil {
		return "", err
	}
	return strconv.FormatInt(n, 10), nil
}

func checkPullRequestID(id string) error {
	if id == "" {
		return withMessage(&api.PullRequestIdRequiredException{}, "A pull request ID is required, but none was provided.")
	}
	if n, err := strconv.ParseUint(id, 10, 63); err != nil || n == 0 {
		return withMessage(&api.InvalidPullRequestIdException{}, "The pull request ID is not valid. Make sure that you have provided the full ID and that the pull request is in the specified repository, and then try again.")
	}
	return nil
}

func pullRequestDoesNotExist(id string) error {
	return withMessage(&api.PullRequestDoesNotExistException{}, "The pull request ID could not be found: %s", id)
}

func getPullRequest(tx store.Tx, sc scope, id string) (pullRequest, int64, error) {
	return getItem[pullRequest](tx, pullRequestsTable, sc.Key(id), func() error { return pullRequestDoesNotExist(id) })
}

// getItem reads a record, answering missing's error when there is none.
func getItem[T any](tx store.Tx, table, key string, missing func() error) (T, int64, error) {
	var v T
	ver, err := store.GetJSON(tx, table, key, &v)
	if errors.Is(err, store.ErrNotFound) {
		err = missing()
	}
	return v, ver, err
}

// refresh brings an open pull request up to date with its branches: a source branch that moved
// makes a new revision, and a source already merged into the destination closes it as merged.
func (s *Service) refresh(ctx context.Context, tx store.Tx, sc scope, pr *pullRequest) (changed bool, err error) {
	if pr.Status != statusOpen {
		return false, nil
	}
	for i := range pr.Targets {
		t := &pr.Targets[i]
		r, _, err := getRepository(tx, sc, t.Repository)
		if err != nil {
			continue // a deleted repository leaves the pull request as it was
		}
		repo := s.repo(sc, &r)
		src, err := repo.ResolveRef(ctx, t.SourceRef)
		if err != nil {
			continue // a deleted source branch leaves the pull request as it was
		}
		dst, err := repo.ResolveRef(ctx, t.DestinationRef)
		if err != nil {
			continue
		}
		if src == t.SourceCommit && dst == t.DestinationCommit {
			continue
		}
		changed = true
		base, err := repo.MergeBase(ctx, dst, src)
		if err != nil {
			return false, err
		}
		if src != t.SourceCommit {
			before := t.SourceCommit
			s.addEvent(ctx, pr, eventSourceUpdated, func(ev *api.PullRequestEvent) {
				ev.PullRequestSourceReferenceUpdatedEventMetadata = &api.PullRequestSourceReferenceUpdatedEventMetadata{
					RepositoryName: new(t.Repository), BeforeCommitId: new(before), AfterCommitId: new(src), MergeBase: service.OmitZero(base)}
			})
			s.newRevision(pr)
		}
		t.SourceCommit, t.DestinationCommit, t.MergeBase = src, dst, base
		if merged, err := repo.IsAncestor(ctx, src, dst); err == nil && merged {
			t.Merged, t.MergeOption = true, fastForwardMerge
			s.closeMerged(ctx, pr, t)
		}
	}
	return changed, nil
}

// mergingKey marks the context of a pull request's own merge, whose branch move is no news to it.
type mergingKey struct{}

// branchesMoved brings the open pull requests whose branches changes moved up to date at once, so
// that their new revisions and merges are published when they happen rather than when next read.
func (s *Service) branchesMoved(ctx context.Context, sc scope, repository string, changes []RefChange) {
	moved := map[string]bool{}
	for _, c := range changes {
		moved[c.Ref] = true
	}
	merging, _ := ctx.Value(mergingKey{}).(string)
	var prs []pullRequest
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		prs, err = store.FilterJSON(tx, pullRequestsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(pr pullRequest) bool {
			t := pr.Targets[0]
			return pr.Status == statusOpen && pr.ID != merging && t.Repository == repository && (moved[t.SourceRef] || moved[t.DestinationRef])
		})
		return err
	})
	for _, pr := range prs {
		if err == nil {
			err = s.updatePullRequest(ctx, &pr.ID, func(*pullRequest) error { return errUnchanged })
		}
	}
	if err != nil {
		s.Logger.Warn("updating pull requests after a branch moved", "repository", repository, "err", err)
	}
}

// closeMerged records that a target merged and closes the pull request.
func (s *Service) closeMerged(ctx context.Context, pr *pullRequest, t *prTarget) {
	s.addEvent(ctx, pr, eventMergeStateChanged, func(ev *api.PullRequestEvent) {
		ev.PullRequestMergedStateChangedEventMetadata = &api.PullRequestMergedStateChangedEventMetadata{
			RepositoryName: new(t.Repository), DestinationReference: new(t.DestinationRef), MergeMetadata: t.mergeMetadata()}
	})
	s.setStatus(ctx, pr, statusClosed)
}

func (s *Service) setStatus(ctx context.Context, pr *pullRequest, status string) {
	pr.Status = status
	s.addEvent(ctx, pr, eventStatusChanged, func(ev *api.PullRequestEvent) {
		ev.PullRequestStatusChangedEventMetadata = &api.PullRequestStatusChangedEventMetadata{PullRequestStatus: new(status)}
	})
}

// loadPullRequest reads a pull request, brought up to date with its branches.
func (s *Service) loadPullRequest(ctx context.Context, id *string) (scope, pullRequest, error) {
	var pr pullRequest
	sc := overcast.ScopeOf(ctx)
	err := s.updatePullRequest(ctx, id, func(p *pullRequest) error {
		pr = *p
		return errUnchanged
	})
	return sc, pr, err
}

// errUnchanged tells updatePullRequest that there is nothing to write.
var errUnchanged = errors.New("unchanged")

// updatePullRequest refreshes the pull request id, applies change and writes it back; a change
// returning errUnchanged writes only what the refresh found.
func (s *Service) updatePullRequest(ctx context.Context, id *string, change func(*pullRequest) error) error {
	return s.modifyPullRequest(ctx, id, true, change)
}

// modifyPullRequest is updatePullRequest, refreshing first only when asked.
func (s *Service) modifyPullRequest(ctx context.Context, id *string, refresh bool, change func(*pullRequest) error) error {
	sc := overcast.ScopeOf(ctx)
	prID := service.Deref(id)
	if err := checkPullRequestID(prID); err != nil {
		return err
	}
	return s.updateAndNotify(ctx, func(tx store.Tx) error {
		pr, ver, err := getPullRequest(tx, sc, prID)
		if err != nil {
			return err
		}
		seen := len(pr.Events)
		refreshed := false
		if refresh {
			if refreshed, err = s.refresh(ctx, tx, sc, &pr); err != nil {
				return err
			}
		}
		err = change(&pr)
		unchanged := errors.Is(err, errUnchanged)
		if err != nil && !unchanged {
			return err
		}
		if unchanged && !refreshed {
			return nil
		}
		if _, err := store.PutJSON(tx, pullRequestsTable, sc.Key(prID), pr, ver); err != nil {
			return err
		}
		return s.publishPullRequestEvents(ctx, tx, sc, &pr, seen)
	})
}

// updateOpenPullRequest is updatePullRequest for changes only an open pull request takes.
func (s *Service) updateOpenPullRequest(ctx context.Context, id *string, change func(*pullRequest) error) (pullRequest, error) {
	var out pullRequest
	err := s.updatePullRequest(ctx, id, func(pr *pullRequest) error {
		if pr.Status != statusOpen {
			return withMessage(&api.PullRequestAlreadyClosedException{}, "The pull request status cannot be updated because it is already closed.")
		}
		if err := change(pr); err != nil {
			return err
		}
		out = *pr
		return nil
	})
	return out, err
}

func checkTitle(title string) error {
	return checkLength(title, maxTitleLength,
		withMessage(&api.TitleRequiredException{}, "A pull request title is required. It cannot be empty or null."),
		withMessage(&api.InvalidTitleException{}, "The title of the pull request is not valid. Pull request titles cannot exceed %d characters in length.", maxTitleLength))
}

func checkPRDescription(d string) error {
	return checkLength(d, maxDescriptionLength, nil,
		withMessage(&api.InvalidDescriptionException{}, "The pull request description is not valid. Descriptions cannot be more than %d characters.", maxDescriptionLength))
}

// fullBranchRef is a branch reference as a pull request names it.
func fullBranchRef(ref string) string {
	if strings.HasPrefix(ref, "refs/") {
		return ref
	}
	return "refs/heads/" + ref
}

// CreatePullRequest opens a pull request from one branch into another of a repository.
func (s *Service) CreatePullRequest(ctx context.Context, in *api.CreatePullRequestInput) (*api.CreatePullRequestOutput, error) {
	sc := overcast.ScopeOf(ctx)
	title, description, token := service.Deref(in.Title), service.Deref(in.Description), service.Deref(in.ClientRequestToken)
	if err := checkTitle(title); err != nil {
		return nil, err
	}
	if err := checkPRDescription(description); err != nil {
		return nil, err
	}
	if len(in.Targets) == 0 {
		return nil, withMessage(&api.TargetsRequiredException{}, "An array of target objects is required. It cannot be empty or null.")
	}
	if len(in.Targets) > 1 {
		return nil, withMessage(&api.MultipleRepositoriesInPullRequestException{}, "You cannot include more than one repository in a pull request. Make sure you have specified only one repository name in your request, and then try again.")
	}
	in0 := in.Targets[0]
	_, r, err := s.lookup(ctx, in0.RepositoryName)
	if err != nil {
		return nil, err
	}
	repo := s.repo(sc, &r)
	t := prTarget{Repository: r.Name, SourceRef: fullBranchRef(service.Deref(in0.SourceReference))}
	if t.DestinationRef = service.Deref(in0.DestinationReference); t.DestinationRef == "" {
		t.DestinationRef = r.DefaultBranch
	}
	if t.DestinationRef == "" { // no default branch recorded yet: what HEAD names
		if t.DestinationRef, err = repo.Head(ctx); err != nil {
			return nil, err
		}
	}
	t.DestinationRef = fullBranchRef(t.DestinationRef)
	if service.Deref(in0.SourceReference) == "" {
		return nil, withMessage(&api.ReferenceNameRequiredException{}, "A reference name is required, but none was provided.")
	}
	for _, ref := range []string{t.SourceRef, t.DestinationRef} {
		if !strings.HasPrefix(ref, branchPrefix) {
			return nil, withMessage(&api.ReferenceTypeNotSupportedException{}, "The specified reference is not a supported type: %s. Pull requests are between branches.", ref)
		}
	}
	if t.SourceRef == t.DestinationRef {
		return nil, withMessage(&api.SourceAndDestinationAreSameException{}, "The source branch and destination branch for the pull request are the same. You must specify different branches for the source and destination.")
	}
	for _, ref := range []struct {
		name string
		id   *string
	}{{t.SourceRef, &t.SourceCommit}, {t.DestinationRef, &t.DestinationCommit}} {
		if *ref.id, err = repo.ResolveRef(ctx, ref.name); err != nil {
			if errors.Is(err, git.ErrNotFound) {
				return nil, withMessage(&api.ReferenceDoesNotExistException{}, "The specified reference does not exist: %s", ref.name)
			}
			return nil, err
		}
	}
	if t.MergeBase, err = repo.MergeBase(ctx, t.DestinationCommit, t.SourceCommit); err != nil {
		return nil, err
	}
	if t.SourceCommit == t.DestinationCommit {
		return nil, withMessage(&api.SourceAndDestinationAreSameException{}, "The source branch and destination branch for the pull request are the same commit. There is nothing to merge.")
	}
	templates, err := s.templatesFor(ctx, sc, r.Name, t.DestinationRef)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	caller := overcast.CallerFrom(ctx).ARN
	var pr pullRequest
	err = s.updateAndNotify(ctx, func(tx store.Tx) error {
		if token != "" {
			var existing string
			_, err := store.GetJSON(tx, pullRequestTokensTable, sc.Key(token), &existing)
			if err == nil {
				if pr, _, err = getPullRequest(tx, sc, existing); err != nil {
					return err
				}
				if pr.Title != title || pr.Description != description || pr.Targets[0].Repository != t.Repository ||
					pr.Targets[0].SourceRef != t.SourceRef || pr.Targets[0].DestinationRef != t.DestinationRef {
					return withMessage(&api.IdempotencyParameterMismatchException{}, "The client request token is not valid. Either the token is not in a valid format, or the token has been used in a previous request and cannot be reused.")
				}
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		id, err := nextNumber(tx, sc, "pullRequest")
		if err != nil {
			return err
		}
		pr = pullRequest{ID: id, Title: title, Description: description, Status: statusOpen, Author: caller,
			Created: now, LastActivity: now, ClientRequestToken: token, Targets: []prTarget{t}}
		s.newRevision(&pr)
		for _, tmpl := range templates {
			pr.Rules = append(pr.Rules, approvalRule{ID: s.IDs.UUID(), Name: tmpl.Name, Content: tmpl.Content,
				Created: now, Modified: now, LastModifiedUser: caller, TemplateID: tmpl.ID, TemplateName: tmpl.Name})
		}
		s.addEvent(ctx, &pr, eventCreated, func(ev *api.PullRequestEvent) {
			ev.PullRequestCreatedEventMetadata = &api.PullRequestCreatedEventMetadata{RepositoryName: new(t.Repository),
				SourceCommitId: new(t.SourceCommit), DestinationCommitId: new(t.DestinationCommit), MergeBase: service.OmitZero(t.MergeBase)}
		})
		if token != "" {
			if _, err := store.PutJSON(tx, pullRequestTokensTable, sc.Key(token), id, 0); err != nil {
				return err
			}
		}
		if _, err = store.PutJSON(tx, pullRequestsTable, sc.Key(id), pr, 0); err != nil {
			return err
		}
		return s.publishPullRequestEvents(ctx, tx, sc, &pr, 0)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreatePullRequestOutput{PullRequest: pr.api()}, nil
}

// GetPullRequest describes a pull request.
func (s *Service) GetPullRequest(ctx context.Context, in *api.GetPullRequestInput) (*api.GetPullRequestOutput, error) {
	_, pr, err := s.loadPullRequest(ctx, in.PullRequestId)
	if err != nil {
		return nil, err
	}
	return &api.GetPullRequestOutput{PullRequest: pr.api()}, nil
}

// ListPullRequests lists a repository's pull request IDs, newest first.
func (s *Service) ListPullRequests(ctx context.Context, in *api.ListPullRequestsInput) (*api.ListPullRequestsOutput, error) {
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	from, size, err := pageArgs(in.MaxResults, in.NextToken, maxPageSize)
	if err != nil {
		return nil, err
	}
	author, status := service.Deref(in.AuthorArn), service.Deref(in.PullRequestStatus)
	if author != "" {
		if _, ok := overcast.ParseARN(author); !ok {
			return nil, withMessage(&api.InvalidAuthorArnException{}, "The Amazon Resource Name (ARN) is not valid: %s", author)
		}
	}
	var prs []pullRequest
	err = s.Store.View(ctx, func(tx store.Tx) error {
		prs, err = store.FilterJSON(tx, pullRequestsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(pr pullRequest) bool {
			return pr.Targets[0].Repository == r.Name && (author == "" || pr.Author == author) && (status == "" || pr.Status == status)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	ids := service.Map(prs, func(pr pullRequest) string { return pr.ID })
	sortNumeric(ids) // newest first
	pageIDs, next, err := pageOf(ids, from, size)
	if err != nil {
		return nil, err
	}
	return &api.ListPullRequestsOutput{PullRequestIds: pageIDs, NextToken: next}, nil
}

// sortNumeric sorts decimal IDs from the largest down.
func sortNumeric(ids []string) {
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && n(ids[j]) > n(ids[j-1]); j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

// DescribePullRequestEvents lists what happened to a pull request, oldest first.
func (s *Service) DescribePullRequestEvents(ctx context.Context, in *api.DescribePullRequestEventsInput) (*api.DescribePullRequestEventsOutput, error) {
	_, pr, err := s.loadPullRequest(ctx, in.PullRequestId)
	if err != nil {
		return nil, err
	}
	from, size, err := pageArgs(in.MaxResults, in.NextToken, maxPageSize)
	if err != nil {
		return nil, err
	}
	typ, actor := service.Deref(in.PullRequestEventType), service.Deref(in.ActorArn)
	var events []api.PullRequestEvent
	for _, ev := range pr.Events {
		if (typ == "" || *ev.PullRequestEventType == typ) && (actor == "" || *ev.ActorArn == actor) {
			events = append(events, ev)
		}
	}
	events, next, err := pageOf(events, from, size)
	if err != nil {
		return nil, err
	}
	return &api.DescribePullRequestEventsOutput{PullRequestEvents: append(api.PullRequestEventList{}, events...), NextToken: next}, nil
}

// UpdatePullRequestTitle renames a pull request.
func (s *Service) UpdatePullRequestTitle(ctx context.Context, in *api.UpdatePullRequestTitleInput) (*api.UpdatePullRequestTitleOutput, error) {
	if err := checkTitle(service.Deref(in.Title)); err != nil {
		return nil, err
	}
	pr, err := s.updateOpenPullRequest(ctx, in.PullRequestId, func(pr *pullRequest) error {
		pr.Title, pr.LastActivity = *in.Title, s.Now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdatePullRequestTitleOutput{PullRequest: pr.api()}, nil
}

// UpdatePullRequestDescription replaces a pull request's description.
func (s *Service) UpdatePullRequestDescription(ctx context.Context, in *api.UpdatePullRequestDescriptionInput) (*api.UpdatePullRequestDescriptionOutput, error) {
	if err := checkPRDescription(service.Deref(in.Description)); err != nil {
		return nil, err
	}
	pr, err := s.updateOpenPullRequest(ctx, in.PullRequestId, func(pr *pullRequest) error {
		pr.Description, pr.LastActivity = service.Deref(in.Description), s.Now()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdatePullRequestDescriptionOutput{PullRequest: pr.api()}, nil
}

// UpdatePullRequestStatus closes (or reopens) a pull request.
func (s *Service) UpdatePullRequestStatus(ctx context.Context, in *api.UpdatePullRequestStatusInput) (*api.UpdatePullRequestStatusOutput, error) {
	status := service.Deref(in.PullRequestStatus)
	var out pullRequest
	err := s.updatePullRequest(ctx, in.PullRequestId, func(pr *pullRequest) error {
		switch {
		case pr.Status == status:
			out = *pr
			return errUnchanged
		case pr.Status == statusClosed && pr.Targets[0].Merged:
			return withMessage(&api.InvalidPullRequestStatusUpdateException{}, "The pull request status update is not valid. The only valid update is from OPEN to CLOSED.")
		}
		s.setStatus(ctx, pr, status)
		out = *pr
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdatePullRequestStatusOutput{PullRequest: out.api()}, nil
}
