package codecommit

import (
	"context"
	"errors"
	"slices"
	"time"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

// approvalRuleTemplatesTable holds the approval rule templates, keyed by scope and name.
const approvalRuleTemplatesTable = "codecommit.approvalRuleTemplates"

// Template limits AWS sets.
const (
	maxTemplateNameLength        = 100
	maxTemplateDescriptionLength = 1000
	maxTemplatesPerRepository    = 10
	maxTemplates                 = 1000
	maxBatchRepositoryNames      = 100
)

type ruleTemplate struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Description      string    `json:"description,omitempty"`
	Content          string    `json:"content"`
	Created          time.Time `json:"created"`
	Modified         time.Time `json:"modified"`
	LastModifiedUser string    `json:"lastModifiedUser"`
	// Repositories are the names of the repositories the template is associated with.
	Repositories []string `json:"repositories,omitempty"`
}

func (t *ruleTemplate) api() *api.ApprovalRuleTemplate {
	return &api.ApprovalRuleTemplate{
		ApprovalRuleTemplateId: new(t.ID), ApprovalRuleTemplateName: new(t.Name),
		ApprovalRuleTemplateDescription: new(t.Description), ApprovalRuleTemplateContent: new(t.Content),
		RuleContentSha256: new(contentSHA256(t.Content)), CreationDate: new(t.Created), LastModifiedDate: new(t.Modified),
		LastModifiedUser: new(t.LastModifiedUser),
	}
}

func checkTemplateName(name string) error {
	return checkLength(name, maxTemplateNameLength,
		withMessage(&api.ApprovalRuleTemplateNameRequiredException{}, "An approval rule template name is required, but was not specified."),
		withMessage(&api.InvalidApprovalRuleTemplateNameException{}, "The name of the approval rule template is not valid. Template names must be between 1 and %d valid characters in length.", maxTemplateNameLength))
}

func checkTemplateDescription(d string) error {
	return checkLength(d, maxTemplateDescriptionLength, nil,
		withMessage(&api.InvalidApprovalRuleTemplateDescriptionException{}, "The description for the approval rule template is not valid because it exceeds the maximum characters allowed for a description."))
}

func checkTemplateContent(content string) error {
	return checkContent(content, true,
		withMessage(&api.ApprovalRuleTemplateContentRequiredException{}, "The content for the approval rule template is empty. You must provide some content for an approval rule template. The content cannot be null."),
		&api.InvalidApprovalRuleTemplateContentException{}, "The content of the approval rule template is not valid: %v")
}

func templateDoesNotExist(name string) error {
	return withMessage(&api.ApprovalRuleTemplateDoesNotExistException{}, "The specified approval rule template does not exist: %s", name)
}

func getTemplate(tx store.Tx, sc scope, name string) (ruleTemplate, int64, error) {
	return getItem[ruleTemplate](tx, approvalRuleTemplatesTable, sc.Key(name), func() error { return templateDoesNotExist(name) })
}

// updateTemplate applies change to the template called name and writes it back.
func (s *Service) updateTemplate(ctx context.Context, name *string, change func(tx store.Tx, t *ruleTemplate) error) (ruleTemplate, error) {
	sc := overcast.ScopeOf(ctx)
	n := service.Deref(name)
	if err := checkTemplateName(n); err != nil {
		return ruleTemplate{}, err
	}
	var t ruleTemplate
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var ver int64
		var err error
		if t, ver, err = getTemplate(tx, sc, n); err != nil {
			return err
		}
		if err := change(tx, &t); err != nil {
			return err
		}
		if t.Name != n { // renamed
			if err := tx.Delete(approvalRuleTemplatesTable, sc.Key(n), ver); err != nil {
				return err
			}
			ver = 0
		}
		_, err = store.PutJSON(tx, approvalRuleTemplatesTable, sc.Key(t.Name), t, ver)
		if errors.Is(err, store.ErrConflict) && ver == 0 {
			return withMessage(&api.ApprovalRuleTemplateNameAlreadyExistsException{}, "An approval rule template with that name already exists in this AWS Region for your AWS account: %s", t.Name)
		}
		return err
	})
	return t, err
}

// modified stamps a template change by the caller.
func (s *Service) modified(ctx context.Context, t *ruleTemplate) {
	t.Modified, t.LastModifiedUser = s.Now(), overcast.CallerFrom(ctx).ARN
}

// templatesFor returns the templates that apply to a new pull request into destinationRef of repository.
func (s *Service) templatesFor(ctx context.Context, sc scope, repository, destinationRef string) ([]ruleTemplate, error) {
	var out []ruleTemplate
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = store.FilterJSON(tx, approvalRuleTemplatesTable, store.ScanOptions{Prefix: sc.Prefix()}, func(t ruleTemplate) bool {
			if !slices.Contains(t.Repositories, repository) {
				return false
			}
			rc, err := parseRuleContent(t.Content, true)
			return err == nil && rc.appliesTo(destinationRef)
		})
		return err
	})
	return out, err
}

// CreateApprovalRuleTemplate creates a template for approval rules.
func (s *Service) CreateApprovalRuleTemplate(ctx context.Context, in *api.CreateApprovalRuleTemplateInput) (*api.CreateApprovalRuleTemplateOutput, error) {
	sc := overcast.ScopeOf(ctx)
	name, content, description := service.Deref(in.ApprovalRuleTemplateName), service.Deref(in.ApprovalRuleTemplateContent), service.Deref(in.ApprovalRuleTemplateDescription)
	if err := checkTemplateName(name); err != nil {
		return nil, err
	}
	if err := checkTemplateContent(content); err != nil {
		return nil, err
	}
	if err := checkTemplateDescription(description); err != nil {
		return nil, err
	}
	now := s.Now()
	t := ruleTemplate{ID: s.IDs.UUID(), Name: name, Description: description, Content: content, Created: now, Modified: now,
		LastModifiedUser: overcast.CallerFrom(ctx).ARN}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if n, err := tx.Count(approvalRuleTemplatesTable, sc.Prefix()); err != nil {
			return err
		} else if n >= maxTemplates {
			return withMessage(&api.NumberOfRuleTemplatesExceededException{}, "The maximum number of approval rule templates has been exceeded for this AWS Region.")
		}
		_, err := store.PutJSON(tx, approvalRuleTemplatesTable, sc.Key(name), t, 0)
		if errors.Is(err, store.ErrConflict) {
			return withMessage(&api.ApprovalRuleTemplateNameAlreadyExistsException{}, "An approval rule template with that name already exists in this AWS Region for your AWS account: %s", name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateApprovalRuleTemplateOutput{ApprovalRuleTemplate: t.api()}, nil
}

// GetApprovalRuleTemplate describes a template.
func (s *Service) GetApprovalRuleTemplate(ctx context.Context, in *api.GetApprovalRuleTemplateInput) (*api.GetApprovalRuleTemplateOutput, error) {
	t, err := s.readTemplate(ctx, in.ApprovalRuleTemplateName)
	if err != nil {
		return nil, err
	}
	return &api.GetApprovalRuleTemplateOutput{ApprovalRuleTemplate: t.api()}, nil
}

func (s *Service) readTemplate(ctx context.Context, name *string) (ruleTemplate, error) {
	sc := overcast.ScopeOf(ctx)
	n := service.Deref(name)
	if err := checkTemplateName(n); err != nil {
		return ruleTemplate{}, err
	}
	return viewItem(ctx, s.Store, func(tx store.Tx) (ruleTemplate, int64, error) { return getTemplate(tx, sc, n) })
}

// UpdateApprovalRuleTemplateName renames a template.
func (s *Service) UpdateApprovalRuleTemplateName(ctx context.Context, in *api.UpdateApprovalRuleTemplateNameInput) (*api.UpdateApprovalRuleTemplateNameOutput, error) {
	newName := service.Deref(in.NewApprovalRuleTemplateName)
	t, err := s.editTemplate(ctx, in.OldApprovalRuleTemplateName, checkTemplateName(newName), func(t *ruleTemplate) error { t.Name = newName; return nil })
	return &api.UpdateApprovalRuleTemplateNameOutput{ApprovalRuleTemplate: t}, err
}

// editTemplate is updateTemplate for an edit of the caller's, stamped with
// them; invalid is the edit's error (the checks of its new value), which
// stops it before the template is read.
func (s *Service) editTemplate(ctx context.Context, name *string, invalid error, edit func(t *ruleTemplate) error) (*api.ApprovalRuleTemplate, error) {
	if invalid != nil {
		return nil, invalid
	}
	t, err := s.updateTemplate(ctx, name, func(_ store.Tx, t *ruleTemplate) error {
		if err := edit(t); err != nil {
			return err
		}
		s.modified(ctx, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t.api(), nil
}

// UpdateApprovalRuleTemplateDescription replaces a template's description.
func (s *Service) UpdateApprovalRuleTemplateDescription(ctx context.Context, in *api.UpdateApprovalRuleTemplateDescriptionInput) (*api.UpdateApprovalRuleTemplateDescriptionOutput, error) {
	description := service.Deref(in.ApprovalRuleTemplateDescription)
	t, err := s.editTemplate(ctx, in.ApprovalRuleTemplateName, checkTemplateDescription(description), func(t *ruleTemplate) error { t.Description = description; return nil })
	return &api.UpdateApprovalRuleTemplateDescriptionOutput{ApprovalRuleTemplate: t}, err
}

// UpdateApprovalRuleTemplateContent replaces a template's content; rules already made from it keep theirs.
func (s *Service) UpdateApprovalRuleTemplateContent(ctx context.Context, in *api.UpdateApprovalRuleTemplateContentInput) (*api.UpdateApprovalRuleTemplateContentOutput, error) {
	content := service.Deref(in.NewRuleContent)
	t, err := s.editTemplate(ctx, in.ApprovalRuleTemplateName, checkTemplateContent(content), func(t *ruleTemplate) error {
		if in.ExistingRuleContentSha256 != nil && *in.ExistingRuleContentSha256 != contentSHA256(t.Content) {
			return withMessage(&api.InvalidRuleContentSha256Exception{}, "The SHA-256 hash signature for the rule content is not valid.")
		}
		t.Content = content
		return nil
	})
	return &api.UpdateApprovalRuleTemplateContentOutput{ApprovalRuleTemplate: t}, err
}

// DeleteApprovalRuleTemplate deletes a template no repository is associated with.
func (s *Service) DeleteApprovalRuleTemplate(ctx context.Context, in *api.DeleteApprovalRuleTemplateInput) (*api.DeleteApprovalRuleTemplateOutput, error) {
	sc := overcast.ScopeOf(ctx)
	name := service.Deref(in.ApprovalRuleTemplateName)
	if err := checkTemplateName(name); err != nil {
		return nil, err
	}
	var id string
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		t, ver, err := getTemplate(tx, sc, name)
		if err != nil {
			return nil // deleting what is not there succeeds
		}
		if len(t.Repositories) > 0 {
			return withMessage(&api.ApprovalRuleTemplateInUseException{}, "The approval rule template is associated with one or more repositories. You cannot delete a template that is associated with a repository. Remove all associations, and then try again.")
		}
		id = t.ID
		return tx.Delete(approvalRuleTemplatesTable, sc.Key(name), ver)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteApprovalRuleTemplateOutput{ApprovalRuleTemplateId: new(id)}, nil
}

// ListApprovalRuleTemplates lists the templates' names.
func (s *Service) ListApprovalRuleTemplates(ctx context.Context, in *api.ListApprovalRuleTemplatesInput) (*api.ListApprovalRuleTemplatesOutput, error) {
	names, next, err := s.listTemplateNames(ctx, in.NextToken, in.MaxResults, nil)
	if err != nil {
		return nil, err
	}
	return &api.ListApprovalRuleTemplatesOutput{ApprovalRuleTemplateNames: names, NextToken: next}, nil
}

// listTemplateNames pages through the names of the templates keep accepts (all when nil).
func (s *Service) listTemplateNames(ctx context.Context, token *string, maxResults *int32, keep func(ruleTemplate) bool) ([]string, *string, error) {
	sc := overcast.ScopeOf(ctx)
	from, size, err := pageArgs(maxResults, token, maxPageSize)
	if err != nil {
		return nil, nil, err
	}
	var templates []ruleTemplate
	err = s.Store.View(ctx, func(tx store.Tx) error {
		templates, err = store.FilterJSON(tx, approvalRuleTemplatesTable, store.ScanOptions{Prefix: sc.Prefix()}, keep)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	names, next, err := pageOf(service.Map(templates, func(t ruleTemplate) string { return t.Name }), from, size)
	if err != nil {
		return nil, nil, err
	}
	return append([]string{}, names...), next, nil
}

// associate adds (or, with add false, removes) repository to the template's associations.
func (s *Service) associate(ctx context.Context, templateName *string, repository string, add bool) error {
	sc := overcast.ScopeOf(ctx)
	_, err := s.updateTemplate(ctx, templateName, func(tx store.Tx, t *ruleTemplate) error {
		if _, _, err := getRepository(tx, sc, repository); err != nil {
			return err
		}
		i := slices.Index(t.Repositories, repository)
		switch {
		case add && i < 0:
			n, err := associatedCount(tx, sc, repository)
			if err != nil {
				return err
			}
			if n >= maxTemplatesPerRepository {
				return withMessage(&api.MaximumRuleTemplatesAssociatedWithRepositoryException{}, "The number of approval rule templates associated with the repository exceeds the maximum allowed.")
			}
			t.Repositories = append(t.Repositories, repository)
		case !add && i >= 0:
			t.Repositories = slices.Delete(t.Repositories, i, i+1)
		}
		return nil
	})
	return err
}

func associatedCount(tx store.Tx, sc scope, repository string) (int, error) {
	ts, err := store.FilterJSON(tx, approvalRuleTemplatesTable, store.ScanOptions{Prefix: sc.Prefix()}, func(t ruleTemplate) bool {
		return slices.Contains(t.Repositories, repository)
	})
	return len(ts), err
}

// AssociateApprovalRuleTemplateWithRepository makes the template apply to the repository's new pull requests.
func (s *Service) AssociateApprovalRuleTemplateWithRepository(ctx context.Context, in *api.AssociateApprovalRuleTemplateWithRepositoryInput) error {
	if err := checkRepositoryName(service.Deref(in.RepositoryName)); err != nil {
		return err
	}
	return s.associate(ctx, in.ApprovalRuleTemplateName, *in.RepositoryName, true)
}

// DisassociateApprovalRuleTemplateFromRepository stops the template applying to the repository.
func (s *Service) DisassociateApprovalRuleTemplateFromRepository(ctx context.Context, in *api.DisassociateApprovalRuleTemplateFromRepositoryInput) error {
	if err := checkRepositoryName(service.Deref(in.RepositoryName)); err != nil {
		return err
	}
	return s.associate(ctx, in.ApprovalRuleTemplateName, *in.RepositoryName, false)
}

// batchAssociate runs associate for each repository, collecting per-repository
// failures, each made by failure from the repository's name and the error's
// code and message.
func batchAssociate[E any](ctx context.Context, s *Service, templateName *string, repositories []string, add bool,
	failure func(repository, code, message *string) E) (done []string, failed []E, err error) {
	if _, err := s.readTemplate(ctx, templateName); err != nil {
		return nil, nil, err
	}
	if len(repositories) == 0 {
		return nil, nil, withMessage(&api.RepositoryNamesRequiredException{}, "At least one repository name object is required, but was not specified.")
	}
	if len(repositories) > maxBatchRepositoryNames {
		return nil, nil, withMessage(&api.MaximumRepositoryNamesExceededException{}, "The maximum number of allowed repository names was exceeded. Currently, this number is %d.", maxBatchRepositoryNames)
	}
	done, failed = []string{}, []E{}
	for _, name := range repositories {
		err := checkRepositoryName(name)
		if err == nil {
			err = s.associate(ctx, templateName, name, add)
		}
		if e, ok := errors.AsType[*awsproto.Error](err); ok {
			failed = append(failed, failure(new(name), new(e.Code), new(e.Message)))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		done = append(done, name)
	}
	return done, failed, nil
}

// BatchAssociateApprovalRuleTemplateWithRepositories associates the template with several repositories.
func (s *Service) BatchAssociateApprovalRuleTemplateWithRepositories(ctx context.Context, in *api.BatchAssociateApprovalRuleTemplateWithRepositoriesInput) (*api.BatchAssociateApprovalRuleTemplateWithRepositoriesOutput, error) {
	done, failed, err := batchAssociate(ctx, s, in.ApprovalRuleTemplateName, in.RepositoryNames, true, func(repository, code, message *string) api.BatchAssociateApprovalRuleTemplateWithRepositoriesError {
		return api.BatchAssociateApprovalRuleTemplateWithRepositoriesError{RepositoryName: repository, ErrorCode: code, ErrorMessage: message}
	})
	return &api.BatchAssociateApprovalRuleTemplateWithRepositoriesOutput{AssociatedRepositoryNames: done, Errors: failed}, err
}

// BatchDisassociateApprovalRuleTemplateFromRepositories disassociates the template from several repositories.
func (s *Service) BatchDisassociateApprovalRuleTemplateFromRepositories(ctx context.Context, in *api.BatchDisassociateApprovalRuleTemplateFromRepositoriesInput) (*api.BatchDisassociateApprovalRuleTemplateFromRepositoriesOutput, error) {
	done, failed, err := batchAssociate(ctx, s, in.ApprovalRuleTemplateName, in.RepositoryNames, false, func(repository, code, message *string) api.BatchDisassociateApprovalRuleTemplateFromRepositoriesError {
		return api.BatchDisassociateApprovalRuleTemplateFromRepositoriesError{RepositoryName: repository, ErrorCode: code, ErrorMessage: message}
	})
	return &api.BatchDisassociateApprovalRuleTemplateFromRepositoriesOutput{DisassociatedRepositoryNames: done, Errors: failed}, err
}

// ListAssociatedApprovalRuleTemplatesForRepository lists the templates associated with a repository.
func (s *Service) ListAssociatedApprovalRuleTemplatesForRepository(ctx context.Context, in *api.ListAssociatedApprovalRuleTemplatesForRepositoryInput) (*api.ListAssociatedApprovalRuleTemplatesForRepositoryOutput, error) {
	_, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	names, next, err := s.listTemplateNames(ctx, in.NextToken, in.MaxResults, func(t ruleTemplate) bool { return slices.Contains(t.Repositories, r.Name) })
	if err != nil {
		return nil, err
	}
	return &api.ListAssociatedApprovalRuleTemplatesForRepositoryOutput{ApprovalRuleTemplateNames: names, NextToken: next}, nil
}

// ListRepositoriesForApprovalRuleTemplate lists the repositories a template is associated with.
func (s *Service) ListRepositoriesForApprovalRuleTemplate(ctx context.Context, in *api.ListRepositoriesForApprovalRuleTemplateInput) (*api.ListRepositoriesForApprovalRuleTemplateOutput, error) {
	t, err := s.readTemplate(ctx, in.ApprovalRuleTemplateName)
	if err != nil {
		return nil, err
	}
	from, size, err := pageArgs(in.MaxResults, in.NextToken, maxPageSize)
	if err != nil {
		return nil, err
	}
	names := slices.Sorted(slices.Values(t.Repositories))
	names, next, err := pageOf(names, from, size)
	if err != nil {
		return nil, err
	}
	return &api.ListRepositoriesForApprovalRuleTemplateOutput{RepositoryNames: append([]string{}, names...), NextToken: next}, nil
}
