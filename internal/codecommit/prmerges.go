package codecommit

import (
	"context"
	"strings"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/service"
)

// prMerge is what the three MergePullRequestBy* operations ask.
type prMerge struct {
	id, repository, sourceCommit *string
	option                       string
	level, strategy              *string
	resolution                   *api.ConflictResolution
	commit                       mergeCommitInfo
}

// mergePullRequest merges an open, approved pull request's source into its destination branch and closes it.
func (s *Service) mergePullRequest(ctx context.Context, req prMerge) (*api.PullRequest, error) {
	_, pr, err := s.loadPullRequest(ctx, req.id)
	if err != nil {
		return nil, err
	}
	if pr.Status != statusOpen {
		return nil, withMessage(&api.PullRequestAlreadyClosedException{}, "The pull request status cannot be updated because it is already closed.")
	}
	t := pr.Targets[0]
	if name := service.Deref(req.repository); name != t.Repository {
		if err := checkRepositoryName(name); err != nil {
			return nil, err
		}
		return nil, withMessage(&api.RepositoryNotAssociatedWithPullRequestException{}, "The repository %s is not associated with the pull request %s.", name, pr.ID)
	}
	if c := service.Deref(req.sourceCommit); c != "" && c != t.SourceCommit {
		return nil, withMessage(&api.TipOfSourceReferenceIsDifferentException{}, "The tip of the source branch in the destination repository does not match the tip of the source branch specified in your request. The pull request might have been updated. Make sure that you have the latest changes.")
	}
	if !*pr.evaluation().Approved {
		return nil, withMessage(&api.PullRequestApprovalRulesNotSatisfiedException{}, "The pull request cannot be merged because one or more approval rules applied to the pull request have conditions that have not been met.")
	}
	branch := strings.TrimPrefix(t.DestinationRef, branchPrefix)
	m, err := s.openMerge(ctx, &t.Repository, &t.SourceCommit, &branch, req.level, req.strategy)
	if err != nil {
		return nil, err
	}
	commit, _, err := s.mergeBranches(context.WithValue(ctx, mergingKey{}, pr.ID), m, &branch, nil, req.option, req.resolution, req.commit)
	if err != nil {
		return nil, err
	}
	var out pullRequest
	// Without the refresh, which would take the merge for one made outside the pull request.
	err = s.modifyPullRequest(ctx, req.id, false, func(pr *pullRequest) error {
		t := &pr.Targets[0]
		t.Merged, t.MergedBy, t.MergeCommit, t.MergeOption = true, overcast.CallerFrom(ctx).ARN, commit, req.option
		if req.option == fastForwardMerge {
			t.MergeCommit = ""
		}
		t.DestinationCommit = commit
		if pr.Status == statusOpen {
			s.closeMerged(ctx, pr, t)
		}
		out = *pr
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out.api(), nil
}

// MergePullRequestByFastForward merges a pull request by moving its destination branch to the source.
func (s *Service) MergePullRequestByFastForward(ctx context.Context, in *api.MergePullRequestByFastForwardInput) (*api.MergePullRequestByFastForwardOutput, error) {
	pr, err := s.mergePullRequest(ctx, prMerge{id: in.PullRequestId, repository: in.RepositoryName, sourceCommit: in.SourceCommitId, option: fastForwardMerge})
	if err != nil {
		return nil, err
	}
	return &api.MergePullRequestByFastForwardOutput{PullRequest: pr}, nil
}

// MergePullRequestBySquash merges a pull request as one commit on its destination branch.
func (s *Service) MergePullRequestBySquash(ctx context.Context, in *api.MergePullRequestBySquashInput) (*api.MergePullRequestBySquashOutput, error) {
	// The squash and three-way inputs have the same fields, so one converts to the other.
	pr, err := s.mergePullRequest(ctx, withCommit(squashMerge, (*api.MergePullRequestByThreeWayInput)(in)))
	if err != nil {
		return nil, err
	}
	return &api.MergePullRequestBySquashOutput{PullRequest: pr}, nil
}

// MergePullRequestByThreeWay merges a pull request with a merge commit on its destination branch.
func (s *Service) MergePullRequestByThreeWay(ctx context.Context, in *api.MergePullRequestByThreeWayInput) (*api.MergePullRequestByThreeWayOutput, error) {
	pr, err := s.mergePullRequest(ctx, withCommit(threeWayMerge, in))
	if err != nil {
		return nil, err
	}
	return &api.MergePullRequestByThreeWayOutput{PullRequest: pr}, nil
}

// withCommit is the request of a squash or three-way pull request merge.
func withCommit(option string, in *api.MergePullRequestByThreeWayInput) prMerge {
	return prMerge{id: in.PullRequestId, repository: in.RepositoryName, sourceCommit: in.SourceCommitId,
		option: option, level: in.ConflictDetailLevel, strategy: in.ConflictResolutionStrategy, resolution: in.ConflictResolution,
		commit: mergeCommitInfo{in.AuthorName, in.Email, in.CommitMessage}}
}
