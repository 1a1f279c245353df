package codebuild

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

// projectsTable holds one record per project, keyed by scope and name.
const projectsTable = "codebuild.projects"

// project is a project's record: the project as the API describes it, and
// the number its next build gets.
type project struct {
	Project api.Project `json:"project"`
	// LastBuildNumber is the buildNumber of the project's latest build:
	// numbers start at 1 and are never reused, even after deletions.
	LastBuildNumber int64 `json:"lastBuildNumber,omitempty"`
}

// Defaults AWS fills in for what CreateProject leaves out.
const (
	defaultTimeoutMinutes       = 60
	defaultQueuedTimeoutMinutes = 480
	listPageSize                = 100
)

func projectARN(sc scope, name string) string { return sc.ARN("codebuild", "project/"+name) }

// projectName is the project a name or an ARN names, in the caller's scope.
func projectName(nameOrARN string) string { return arnResource(nameOrARN, ":project/") }

// arnResource is what follows kind (":project/") in an ARN; anything that
// is not an ARN is the resource's own name or ID.
func arnResource(nameOrARN, kind string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		if _, name, ok := strings.Cut(nameOrARN, kind); ok {
			return name
		}
	}
	return nameOrARN
}

func getProject(tx store.Tx, sc scope, name string) (*project, int64, error) {
	var p project
	version, err := store.GetJSON(tx, projectsTable, sc.Key(name), &p)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, notFound("Project cannot be found: %s", projectARN(sc, name))
	}
	return &p, version, err
}

func (s *Service) CreateProject(ctx context.Context, in *api.CreateProjectInput) (*api.CreateProjectOutput, error) {
	sc := overcast.ScopeOf(ctx)
	now := s.Now()
	p, err := newProject(sc, in, now, now)
	if err != nil {
		return nil, err
	}
	if err := s.checkVPC(ctx, sc, p.VpcConfig); err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, projectsTable, sc.Key(*in.Name), &project{Project: p}, 0)
		if errors.Is(err, store.ErrConflict) {
			return alreadyExists("Project already exists: %s", *p.Arn)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateProjectOutput{Project: &p}, nil
}

func (s *Service) UpdateProject(ctx context.Context, in *api.UpdateProjectInput) (*api.UpdateProjectOutput, error) {
	sc := overcast.ScopeOf(ctx)
	name := projectName(*in.Name)
	if err := s.checkVPC(ctx, sc, in.VpcConfig); err != nil {
		return nil, err
	}
	var out api.Project
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		p, version, err := getProject(tx, sc, name)
		if err != nil {
			var apiErr awsproto.APIError
			if errors.As(err, &apiErr) {
				return notFound("Failed to call UpdateProject, reason: %s", apiErr.ErrorMessage())
			}
			return err
		}
		merged := updatedInput(p.Project, (*api.CreateProjectInput)(in))
		merged.Name = &name
		if out, err = newProject(sc, merged, *p.Project.Created, s.Now()); err != nil {
			return err
		}
		p.Project = out
		_, err = store.PutJSON(tx, projectsTable, sc.Key(name), p, version)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateProjectOutput{Project: &out}, nil
}

// updatedInput is the CreateProject request that would make the project
// as UpdateProject changes it: every member the update names replaces
// the project's, the others stay.
func updatedInput(p api.Project, up *api.CreateProjectInput) *api.CreateProjectInput {
	in := &api.CreateProjectInput{
		Name: p.Name, Description: p.Description, Source: p.Source, SecondarySources: p.SecondarySources,
		SourceVersion: p.SourceVersion, SecondarySourceVersions: p.SecondarySourceVersions, Artifacts: p.Artifacts,
		SecondaryArtifacts: p.SecondaryArtifacts, Cache: p.Cache, Environment: p.Environment, ServiceRole: p.ServiceRole,
		TimeoutInMinutes: p.TimeoutInMinutes, QueuedTimeoutInMinutes: p.QueuedTimeoutInMinutes, EncryptionKey: p.EncryptionKey,
		Tags: p.Tags, VpcConfig: p.VpcConfig, LogsConfig: p.LogsConfig, FileSystemLocations: p.FileSystemLocations,
		BuildBatchConfig: p.BuildBatchConfig, ConcurrentBuildLimit: p.ConcurrentBuildLimit, AutoRetryLimit: p.AutoRetryLimit,
	}
	if p.Badge != nil {
		in.BadgeEnabled = p.Badge.BadgeEnabled
	}
	replace(&in.Description, up.Description)
	replace(&in.Source, up.Source)
	replace(&in.SourceVersion, up.SourceVersion)
	replace(&in.Artifacts, up.Artifacts)
	replace(&in.Cache, up.Cache)
	replace(&in.Environment, up.Environment)
	replace(&in.ServiceRole, up.ServiceRole)
	replace(&in.TimeoutInMinutes, up.TimeoutInMinutes)
	replace(&in.QueuedTimeoutInMinutes, up.QueuedTimeoutInMinutes)
	replace(&in.EncryptionKey, up.EncryptionKey)
	replace(&in.VpcConfig, up.VpcConfig)
	replace(&in.BadgeEnabled, up.BadgeEnabled)
	replace(&in.LogsConfig, up.LogsConfig)
	replace(&in.BuildBatchConfig, up.BuildBatchConfig)
	replace(&in.ConcurrentBuildLimit, up.ConcurrentBuildLimit)
	replace(&in.AutoRetryLimit, up.AutoRetryLimit)
	replaceList(&in.SecondarySources, up.SecondarySources)
	replaceList(&in.SecondarySourceVersions, up.SecondarySourceVersions)
	replaceList(&in.SecondaryArtifacts, up.SecondaryArtifacts)
	replaceList(&in.Tags, up.Tags)
	replaceList(&in.FileSystemLocations, up.FileSystemLocations)
	return in
}

// replace and replaceList set what an update or override gives, leaving
// what it does not (nil) as it was.
func replace[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}

func replaceList[S ~[]E, E any](dst *S, src S) {
	if src != nil {
		*dst = src
	}
}

func (s *Service) DeleteProject(ctx context.Context, in *api.DeleteProjectInput) (*api.DeleteProjectOutput, error) {
	sc := overcast.ScopeOf(ctx)
	// Deleting a project that does not exist succeeds: the API models no
	// not-found error for it.
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		return store.DeleteKeys(tx, projectsTable, []string{sc.Key(projectName(*in.Name))})
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteProjectOutput{}, nil
}

func (s *Service) BatchGetProjects(ctx context.Context, in *api.BatchGetProjectsInput) (*api.BatchGetProjectsOutput, error) {
	sc := overcast.ScopeOf(ctx)
	out := &api.BatchGetProjectsOutput{Projects: api.Projects{}, ProjectsNotFound: api.ProjectNames{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		seen := map[string]bool{}
		for _, n := range in.Names {
			name := projectName(n)
			if seen[name] {
				continue
			}
			seen[name] = true
			p, _, err := getProject(tx, sc, name)
			var apiErr awsproto.APIError
			switch {
			case errors.As(err, &apiErr):
				out.ProjectsNotFound = append(out.ProjectsNotFound, n)
			case err != nil:
				return err
			default:
				out.Projects = append(out.Projects, p.Project)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) ListProjects(ctx context.Context, in *api.ListProjectsInput) (*api.ListProjectsOutput, error) {
	sc := overcast.ScopeOf(ctx)
	var all []api.Project
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, projectsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, p project, _ int64) error {
			all = append(all, p.Project)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sortProjects(all, service.DerefOr(in.SortBy, "NAME"), service.DerefOr(in.SortOrder, "ASCENDING"))
	names := service.Map(all, func(p api.Project) string { return *p.Name })
	page, next, err := pageOf(names, in.NextToken, listPageSize)
	if err != nil {
		return nil, err
	}
	return &api.ListProjectsOutput{Projects: page, NextToken: next}, nil
}

func sortProjects(ps []api.Project, by, order string) {
	key := func(p api.Project) string { return *p.Name }
	switch by {
	case "CREATED_TIME":
		key = func(p api.Project) string { return p.Created.UTC().Format(time.RFC3339Nano) + "/" + *p.Name }
	case "LAST_MODIFIED_TIME":
		key = func(p api.Project) string { return p.LastModified.UTC().Format(time.RFC3339Nano) + "/" + *p.Name }
	}
	slices.SortFunc(ps, func(a, b api.Project) int {
		c := cmp.Compare(key(a), key(b))
		if order == "DESCENDING" {
			return -c
		}
		return c
	})
}

// pageOf is one page of a list the service sorts itself: the token carries
// the offset of the next page.
func pageOf(all []string, token *string, size int) ([]string, *string, error) {
	after, err := awsproto.PageAfter(token, invalidInput("Invalid next token"))
	if err != nil {
		return nil, nil, err
	}
	start := 0
	if after != "" {
		if start, err = strconv.Atoi(after); err != nil || start < 0 || start > len(all) {
			return nil, nil, invalidInput("Invalid next token")
		}
	}
	end := min(start+size, len(all))
	var next *string
	if end < len(all) {
		next = awsproto.PageToken(strconv.Itoa(end))
	}
	return slices.Clone(all[start:end]), next, nil
}

// ListSharedProjects lists the projects other accounts share with the
// caller: overcast has no resource sharing, so there are none.
func (s *Service) ListSharedProjects(ctx context.Context, in *api.ListSharedProjectsInput) (*api.ListSharedProjectsOutput, error) {
	return &api.ListSharedProjectsOutput{Projects: api.ProjectArns{}}, nil
}
