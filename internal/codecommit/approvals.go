package codecommit

import (
	"context"
	"slices"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/awsproto"
	"overcast/internal/service"
)

const (
	approvalApprove = "APPROVE"
	approvalRevoke  = "REVOKE"
	overrideSet     = "OVERRIDE"
	overrideRevoke  = "REVOKE"
)

// maxApprovalRuleNameLength is AWS's limit on approval rule names.
const maxApprovalRuleNameLength = 100

func checkRuleName(name string) error {
	return checkLength(name, maxApprovalRuleNameLength,
		withMessage(&api.ApprovalRuleNameRequiredException{}, "An approval rule name is required, but was not specified."),
		withMessage(&api.InvalidApprovalRuleNameException{}, "The name for the approval rule is not valid."))
}

// checkRule checks a pull request's approval rule: its name, then its content.
func checkRule(name, content string) error {
	if err := checkRuleName(name); err != nil {
		return err
	}
	return checkContent(content, false,
		withMessage(&api.ApprovalRuleContentRequiredException{}, "The content for the approval rule is empty. You must provide some content for an approval rule. The content cannot be null."),
		&api.InvalidApprovalRuleContentException{}, "The content for the approval rule is not valid: %v")
}

// checkContent refuses empty rule content with missing, and content
// parseRuleContent refuses with invalid, its message made of format and the
// parser's error.
func checkContent(content string, template bool, missing error, invalid awsproto.APIError, format string) error {
	if content == "" {
		return missing
	}
	if _, err := parseRuleContent(content, template); err != nil {
		return withMessage(invalid, format, err)
	}
	return nil
}

// checkRevision checks that a request names the pull request's current revision.
func checkRevision(pr *pullRequest, revision *string) error {
	rev := service.Deref(revision)
	if rev == "" {
		return revisionRequired()
	}
	if rev != pr.RevisionID {
		return withMessage(&api.RevisionNotCurrentException{}, "The revision ID provided in the request does not match the current revision ID. Use GetPullRequest to retrieve the current revision ID.")
	}
	return nil
}

func (pr *pullRequest) rule(name string) int {
	return slices.IndexFunc(pr.Rules, func(r approvalRule) bool { return r.Name == name })
}

func approvalRuleDoesNotExist(name string) error {
	return withMessage(&api.ApprovalRuleDoesNotExistException{}, "The specified approval rule does not exist: %s", name)
}

// ruleEvent records an approval rule's creation, change or deletion.
func (s *Service) ruleEvent(ctx context.Context, pr *pullRequest, typ string, r approvalRule) {
	s.addEvent(ctx, pr, typ, func(ev *api.PullRequestEvent) {
		ev.ApprovalRuleEventMetadata = &api.ApprovalRuleEventMetadata{ApprovalRuleName: new(r.Name), ApprovalRuleId: new(r.ID), ApprovalRuleContent: new(r.Content)}
	})
}

// CreatePullRequestApprovalRule adds an approval rule to an open pull request.
func (s *Service) CreatePullRequestApprovalRule(ctx context.Context, in *api.CreatePullRequestApprovalRuleInput) (*api.CreatePullRequestApprovalRuleOutput, error) {
	name, content := service.Deref(in.ApprovalRuleName), service.Deref(in.ApprovalRuleContent)
	if err := checkRule(name, content); err != nil {
		return nil, err
	}
	rule, err := s.editRule(ctx, in.PullRequestId, eventRuleCreated, func(pr *pullRequest) (*approvalRule, error) {
		if pr.rule(name) >= 0 {
			return nil, withMessage(&api.ApprovalRuleNameAlreadyExistsException{}, "An approval rule with that name already exists. Approval rule names must be unique within the scope of a pull request.")
		}
		if len(pr.Rules) >= maxRulesPerPR {
			return nil, withMessage(&api.NumberOfRulesExceededException{}, "The approval rule cannot be added. The pull request has the maximum number of approval rules associated with it.")
		}
		now := s.Now()
		pr.Rules = append(pr.Rules, approvalRule{ID: s.IDs.UUID(), Name: name, Content: content, Created: now, Modified: now, LastModifiedUser: overcast.CallerFrom(ctx).ARN})
		return &pr.Rules[len(pr.Rules)-1], nil
	})
	if err != nil {
		return nil, err
	}
	return &api.CreatePullRequestApprovalRuleOutput{ApprovalRule: new(rule.api())}, nil
}

// editRule applies change, which returns the rule it made or changed, to an open pull request,
// recording an event of type typ.
func (s *Service) editRule(ctx context.Context, id *string, typ string, change func(*pullRequest) (*approvalRule, error)) (approvalRule, error) {
	var rule approvalRule
	_, err := s.updateOpenPullRequest(ctx, id, func(pr *pullRequest) error {
		r, err := change(pr)
		if err != nil {
			return err
		}
		rule = *r
		s.ruleEvent(ctx, pr, typ, rule)
		return nil
	})
	return rule, err
}

// UpdatePullRequestApprovalRuleContent replaces an approval rule's content.
func (s *Service) UpdatePullRequestApprovalRuleContent(ctx context.Context, in *api.UpdatePullRequestApprovalRuleContentInput) (*api.UpdatePullRequestApprovalRuleContentOutput, error) {
	name, content := service.Deref(in.ApprovalRuleName), service.Deref(in.NewRuleContent)
	if err := checkRule(name, content); err != nil {
		return nil, err
	}
	rule, err := s.editRule(ctx, in.PullRequestId, eventRuleUpdated, func(pr *pullRequest) (*approvalRule, error) {
		i := pr.rule(name)
		if i < 0 {
			return nil, approvalRuleDoesNotExist(name)
		}
		r := &pr.Rules[i]
		if r.TemplateID != "" {
			return nil, withMessage(&api.CannotModifyApprovalRuleFromTemplateException{}, "The approval rule cannot be modified for the pull request because it was created by an approval rule template and applied to the pull request automatically.")
		}
		if in.ExistingRuleContentSha256 != nil && *in.ExistingRuleContentSha256 != contentSHA256(r.Content) {
			return nil, withMessage(&api.InvalidRuleContentSha256Exception{}, "The SHA-256 hash signature for the rule content is not valid.")
		}
		r.Content, r.Modified, r.LastModifiedUser = content, s.Now(), overcast.CallerFrom(ctx).ARN
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdatePullRequestApprovalRuleContentOutput{ApprovalRule: new(rule.api())}, nil
}

// DeletePullRequestApprovalRule removes an approval rule; deleting one that is not there succeeds.
func (s *Service) DeletePullRequestApprovalRule(ctx context.Context, in *api.DeletePullRequestApprovalRuleInput) (*api.DeletePullRequestApprovalRuleOutput, error) {
	name := service.Deref(in.ApprovalRuleName)
	if err := checkRuleName(name); err != nil {
		return nil, err
	}
	var id string
	_, err := s.updateOpenPullRequest(ctx, in.PullRequestId, func(pr *pullRequest) error {
		i := pr.rule(name)
		if i < 0 {
			return nil
		}
		rule := pr.Rules[i]
		if rule.TemplateID != "" {
			return withMessage(&api.CannotDeleteApprovalRuleFromTemplateException{}, "The approval rule cannot be deleted from the pull request because it was created by an approval rule template and applied to the pull request automatically.")
		}
		id = rule.ID
		pr.Rules = slices.Delete(pr.Rules, i, i+1)
		s.ruleEvent(ctx, pr, eventRuleDeleted, rule)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeletePullRequestApprovalRuleOutput{ApprovalRuleId: new(id)}, nil
}

// approvers are the users who approve the pull request's current revision.
func (pr *pullRequest) approvers() []string {
	var out []string
	for _, a := range pr.Approvals {
		if a.Revision == pr.RevisionID {
			out = append(out, a.User)
		}
	}
	return out
}

// UpdatePullRequestApprovalState approves, or revokes the caller's approval of, the current revision.
func (s *Service) UpdatePullRequestApprovalState(ctx context.Context, in *api.UpdatePullRequestApprovalStateInput) error {
	caller := overcast.CallerFrom(ctx).ARN
	state := service.Deref(in.ApprovalState)
	return s.updateCurrentRevision(ctx, in.PullRequestId, in.RevisionId, func(pr *pullRequest) error {
		if pr.Author == caller {
			return withMessage(&api.PullRequestCannotBeApprovedByAuthorException{}, "The approval cannot be applied because the user approving the pull request matches the user who created the pull request. You cannot approve a pull request that you created.")
		}
		i := slices.IndexFunc(pr.Approvals, func(a approval) bool { return a.User == caller && a.Revision == pr.RevisionID })
		switch {
		case state == approvalApprove && i < 0:
			pr.Approvals = append(pr.Approvals, approval{User: caller, Revision: pr.RevisionID})
		case state == approvalRevoke && i >= 0:
			pr.Approvals = slices.Delete(pr.Approvals, i, i+1)
		}
		s.addEvent(ctx, pr, eventApprovalStateChang, func(ev *api.PullRequestEvent) {
			ev.ApprovalStateChangedEventMetadata = &api.ApprovalStateChangedEventMetadata{RevisionId: new(pr.RevisionID), ApprovalStatus: new(state)}
		})
		return nil
	})
}

// updateCurrentRevision is updateOpenPullRequest for a change that applies
// to the revision a request names, which must be the current one.
func (s *Service) updateCurrentRevision(ctx context.Context, id, revision *string, change func(*pullRequest) error) error {
	_, err := s.updateOpenPullRequest(ctx, id, func(pr *pullRequest) error {
		if err := checkRevision(pr, revision); err != nil {
			return err
		}
		return change(pr)
	})
	return err
}

// loadRevision reads a pull request and the revision (any, not only the current one) a request names.
func (s *Service) loadRevision(ctx context.Context, id, revision *string) (pullRequest, string, error) {
	_, pr, err := s.loadPullRequest(ctx, id)
	if err != nil {
		return pr, "", err
	}
	rev := service.Deref(revision)
	if rev == "" {
		return pr, "", revisionRequired()
	}
	return pr, rev, nil
}

func revisionRequired() error {
	return withMessage(&api.RevisionIdRequiredException{}, "A revision ID is required, but was not provided.")
}

// GetPullRequestApprovalStates lists who approves a revision.
func (s *Service) GetPullRequestApprovalStates(ctx context.Context, in *api.GetPullRequestApprovalStatesInput) (*api.GetPullRequestApprovalStatesOutput, error) {
	pr, rev, err := s.loadRevision(ctx, in.PullRequestId, in.RevisionId)
	if err != nil {
		return nil, err
	}
	out := &api.GetPullRequestApprovalStatesOutput{Approvals: api.ApprovalList{}}
	for _, a := range pr.Approvals {
		if a.Revision == rev {
			out.Approvals = append(out.Approvals, api.Approval{UserArn: new(a.User), ApprovalState: new(approvalApprove)})
		}
	}
	return out, nil
}

// evaluation is whether the pull request's approval rules are met for its current revision.
func (pr *pullRequest) evaluation() *api.Evaluation {
	ev := &api.Evaluation{Overridden: new(pr.Overrider != "" && pr.OverrideOn == pr.RevisionID),
		ApprovalRulesSatisfied: api.ApprovalRulesSatisfiedList{}, ApprovalRulesNotSatisfied: api.ApprovalRulesNotSatisfiedList{}}
	approvers := pr.approvers()
	for _, r := range pr.Rules {
		rc, err := parseRuleContent(r.Content, r.TemplateID != "")
		if err == nil && rc.satisfied(approvers) {
			ev.ApprovalRulesSatisfied = append(ev.ApprovalRulesSatisfied, r.Name)
		} else {
			ev.ApprovalRulesNotSatisfied = append(ev.ApprovalRulesNotSatisfied, r.Name)
		}
	}
	ev.Approved = new(*ev.Overridden || len(ev.ApprovalRulesNotSatisfied) == 0)
	return ev
}

// EvaluatePullRequestApprovalRules says whether a revision meets the pull request's approval rules.
func (s *Service) EvaluatePullRequestApprovalRules(ctx context.Context, in *api.EvaluatePullRequestApprovalRulesInput) (*api.EvaluatePullRequestApprovalRulesOutput, error) {
	_, pr, err := s.loadPullRequest(ctx, in.PullRequestId)
	if err != nil {
		return nil, err
	}
	if err := checkRevision(&pr, in.RevisionId); err != nil {
		return nil, err
	}
	return &api.EvaluatePullRequestApprovalRulesOutput{Evaluation: pr.evaluation()}, nil
}

// OverridePullRequestApprovalRules sets aside (or restores) the approval rules for the current revision.
func (s *Service) OverridePullRequestApprovalRules(ctx context.Context, in *api.OverridePullRequestApprovalRulesInput) error {
	caller := overcast.CallerFrom(ctx).ARN
	status := service.Deref(in.OverrideStatus)
	return s.updateCurrentRevision(ctx, in.PullRequestId, in.RevisionId, func(pr *pullRequest) error {
		overridden := pr.Overrider != "" && pr.OverrideOn == pr.RevisionID
		switch {
		case status == overrideSet && overridden:
			return withMessage(&api.OverrideAlreadySetException{}, "The override status has already been set for this pull request. You can only override approval rules once for a pull request revision.")
		case status == overrideSet:
			pr.Overrider, pr.OverrideOn = caller, pr.RevisionID
		case !overridden:
			return nil
		default:
			pr.Overrider, pr.OverrideOn = "", ""
		}
		s.addEvent(ctx, pr, eventRuleOverridden, func(ev *api.PullRequestEvent) {
			ev.ApprovalRuleOverriddenEventMetadata = &api.ApprovalRuleOverriddenEventMetadata{RevisionId: new(pr.RevisionID), OverrideStatus: new(status)}
		})
		return nil
	})
}

// GetPullRequestOverrideState says whether the approval rules of a revision are overridden, and by whom.
func (s *Service) GetPullRequestOverrideState(ctx context.Context, in *api.GetPullRequestOverrideStateInput) (*api.GetPullRequestOverrideStateOutput, error) {
	pr, rev, err := s.loadRevision(ctx, in.PullRequestId, in.RevisionId)
	if err != nil {
		return nil, err
	}
	if pr.Overrider != "" && pr.OverrideOn == rev {
		return &api.GetPullRequestOverrideStateOutput{Overridden: new(true), Overrider: new(pr.Overrider)}, nil
	}
	return &api.GetPullRequestOverrideStateOutput{Overridden: new(false)}, nil
}
