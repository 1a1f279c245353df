package codebuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/bus"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Webhooks hang off projects: a project's webhook is part of its record, as
// BatchGetProjects shows it. CodeCommit pushes reach them through the bus.

// webhookSources are the source types a webhook can watch.
var webhookSources = []string{"CODECOMMIT", "GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "GITLAB", "GITLAB_SELF_MANAGED"}

func (s *Service) CreateWebhook(ctx context.Context, in *api.CreateWebhookInput) (*api.CreateWebhookOutput, error) {
	sc := overcast.ScopeOf(ctx)
	out, err := s.changeWebhook(ctx, *in.ProjectName, in.FilterGroups, func(p *project, name string) (*api.Webhook, error) {
		src := p.Project.Source
		if !slices.Contains(webhookSources, *src.Type) {
			return nil, invalidInput("Source type %s is not supported for webhooks", *src.Type)
		}
		if p.Project.Webhook != nil {
			return nil, alreadyExists("Webhook already exists for project %s", name)
		}
		now := s.Now()
		p.Project.Webhook = &api.Webhook{
			Url:                new(service.Deref(src.Location)),
			PayloadUrl:         new(fmt.Sprintf("https://codebuild.%s.amazonaws.com/webhooks?t=%s&v=1", sc.Region, s.IDs.UUID())),
			Secret:             new(s.webhookSecret()),
			BranchFilter:       in.BranchFilter,
			FilterGroups:       nonNil(in.FilterGroups),
			BuildType:          new(service.DerefOr(in.BuildType, api.WebhookBuildTypeBUILD)),
			ManualCreation:     new(service.Deref(in.ManualCreation)),
			LastModifiedSecret: &now,
			ScopeConfiguration: in.ScopeConfiguration,
			Status:             new("ACTIVE"),
		}
		return p.Project.Webhook, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateWebhookOutput{Webhook: out}, nil
}

func (s *Service) UpdateWebhook(ctx context.Context, in *api.UpdateWebhookInput) (*api.UpdateWebhookOutput, error) {
	rotate := service.Deref(in.RotateSecret)
	out, err := s.changeWebhook(ctx, *in.ProjectName, in.FilterGroups, func(p *project, name string) (*api.Webhook, error) {
		w := p.Project.Webhook
		if w == nil {
			return nil, notFound("Webhook does not exist for project %s", name)
		}
		replace(&w.BranchFilter, in.BranchFilter)
		replace(&w.BuildType, in.BuildType)
		if in.FilterGroups != nil {
			w.FilterGroups = in.FilterGroups
		}
		if rotate {
			now := s.Now()
			w.Secret, w.LastModifiedSecret = new(s.webhookSecret()), &now
		}
		return w, nil
	})
	if err != nil {
		return nil, err
	}
	if !rotate { // the secret shows only when it is made
		out.Secret = nil
	}
	return &api.UpdateWebhookOutput{Webhook: out}, nil
}

func (s *Service) DeleteWebhook(ctx context.Context, in *api.DeleteWebhookInput) (*api.DeleteWebhookOutput, error) {
	_, err := s.changeWebhook(ctx, *in.ProjectName, nil, func(p *project, name string) (*api.Webhook, error) {
		if p.Project.Webhook == nil {
			return nil, notFound("Webhook does not exist for project %s", name)
		}
		p.Project.Webhook = nil
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteWebhookOutput{}, nil
}

// changeWebhook checks filter groups, then changes the webhook of the
// project nameOrARN names with change, and returns a copy of what change
// returns.
func (s *Service) changeWebhook(ctx context.Context, nameOrARN string, groups api.FilterGroups, change func(p *project, name string) (*api.Webhook, error)) (*api.Webhook, error) {
	if err := validateFilterGroups(groups); err != nil {
		return nil, err
	}
	sc := overcast.ScopeOf(ctx)
	name := projectName(nameOrARN)
	var out api.Webhook
	err := s.updateProject(ctx, sc, name, func(p *project) error {
		w, err := change(p, name)
		if w != nil {
			out = *w
		}
		return err
	})
	return &out, err
}

// webhookSecret is a new webhook secret.
func (s *Service) webhookSecret() string {
	return s.IDs.String("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 40)
}

// updateProject changes a project's record with change, retrying lost races.
func (s *Service) updateProject(ctx context.Context, sc scope, name string, change func(*project) error) error {
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		p, version, err := getProject(tx, sc, name)
		if err != nil {
			return err
		}
		if err := change(p); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, projectsTable, sc.Key(name), p, version)
		return err
	})
}

// CodeCommit's push event, as it publishes it on the bus.
const (
	codecommitSource      = "aws.codecommit"
	repositoryStateChange = "CodeCommit Repository State Change"
)

// repositoryChange is the detail of a CodeCommit Repository State Change.
type repositoryChange struct {
	Event             string `json:"event"` // referenceCreated, referenceUpdated, referenceDeleted
	RepositoryName    string `json:"repositoryName"`
	ReferenceType     string `json:"referenceType"` // branch, tag
	ReferenceName     string `json:"referenceName"`
	ReferenceFullName string `json:"referenceFullName"`
	CommitID          string `json:"commitId"`
	OldCommitID       string `json:"oldCommitId"`
	CallerUserArn     string `json:"callerUserArn"`
}

// onPush starts a build of every project whose webhook the push passes.
// The event's ID is each build's idempotency token, so a redelivered event
// starts nothing new.
func (s *Service) onPush(ctx context.Context, ev bus.Event) error {
	var change repositoryChange
	if err := json.Unmarshal(ev.Detail, &change); err != nil || change.Event == "referenceDeleted" || change.CommitID == "" {
		return nil // nothing a webhook builds
	}
	sc := scope{Account: ev.Account, Region: ev.Region}
	var projects []project
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		projects, err = store.FilterJSON(tx, projectsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(p project) bool {
			src := p.Project.Source
			return p.Project.Webhook != nil && src != nil && *src.Type == "CODECOMMIT" &&
				codecommitRepository(service.DerefOr(src.Location, "")) == change.RepositoryName
		})
		return err
	})
	if err != nil || len(projects) == 0 {
		return err
	}
	actor := ""
	if a, ok := overcast.ParseARN(change.CallerUserArn); ok {
		actor = a.AccountID
	}
	ref := change.ReferenceFullName
	if ref == "" {
		ref = "refs/heads/" + change.ReferenceName
		if change.ReferenceType == "tag" {
			ref = "refs/tags/" + change.ReferenceName
		}
	}
	trigger := webhookTrigger{Event: webhookPush, HeadRef: ref, Actor: actor, Commit: change.CommitID, PrevCommit: change.OldCommitID,
		Details: func() (string, []string, error) { return s.commitDetails(ctx, sc, change) }}
	var errs []error
	for _, p := range projects {
		ok, err := webhookMatches(p.Project.Webhook, trigger)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		if err := s.startWebhookBuild(ctx, sc, p, trigger, ev.ID); err != nil {
			errs = append(errs, fmt.Errorf("webhook of project %s: %w", *p.Project.Name, err))
		}
	}
	return errors.Join(errs...)
}

// codecommitRepository is the repository a CodeCommit clone URL names.
func codecommitRepository(location string) string {
	_, name, ok := strings.Cut(location, "/v1/repos/")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(strings.Trim(name, "/"), ".git")
}

// commitDetails is the pushed commit's message and the paths the push
// changed, read from the repository.
func (s *Service) commitDetails(ctx context.Context, sc scope, change repositoryChange) (string, []string, error) {
	if s.opts.Repositories == nil {
		return "", nil, errMissing("CodeCommit")
	}
	dir, err := s.opts.Repositories.RepositoryDir(ctx, sc.Account, sc.Region, change.RepositoryName)
	if err != nil {
		return "", nil, err
	}
	msg, err := git(ctx, dir, "log", "-1", "--format=%B", change.CommitID)
	if err != nil {
		return "", nil, err
	}
	diff := []string{"diff-tree", "-r", "--root", "--no-commit-id", "--name-only", change.CommitID}
	if old := change.OldCommitID; old != "" && strings.Trim(old, "0") != "" {
		diff = []string{"diff", "--name-only", old, change.CommitID}
	}
	files, err := git(ctx, dir, diff...)
	if err != nil {
		return "", nil, err
	}
	return strings.TrimSpace(msg), strings.Fields(files), nil
}

// startWebhookBuild starts the build (or batch) a push triggers: the pushed
// commit, with the CODEBUILD_WEBHOOK_* variables.
func (s *Service) startWebhookBuild(ctx context.Context, sc scope, p project, t webhookTrigger, eventID string) error {
	ctx = overcast.WithCaller(ctx, overcast.RootCaller(sc.Account, sc.Region))
	origin := buildOrigin{Initiator: "codecommit-webhook", System: webhookEnv(t)}
	token := "webhook-" + eventID
	if service.DerefOr(p.Project.Webhook.BuildType, "") == api.WebhookBuildTypeBUILDBATCH {
		_, err := s.startBuildBatch(ctx, &api.StartBuildBatchInput{ProjectName: p.Project.Name, SourceVersion: &t.Commit, IdempotencyToken: &token}, origin)
		return err
	}
	_, err := s.startBuild(ctx, &api.StartBuildInput{ProjectName: p.Project.Name, SourceVersion: &t.Commit, IdempotencyToken: &token}, origin)
	return err
}
