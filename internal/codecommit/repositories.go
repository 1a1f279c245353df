package codecommit

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"unicode/utf8"

	"overcast"
	api "overcast/internal/api/codecommit"
	"overcast/internal/git"
	"overcast/internal/service"
	"overcast/internal/store"
)

// initialBranch is what a new repository's HEAD names until its first
// branch arrives, which then becomes the default branch.
const initialBranch = "main"

// listPageSize is how many repositories ListRepositories returns a page.
const listPageSize = 1000

func checkDescription(d *string) error {
	if d != nil && utf8.RuneCountInString(*d) > 1000 {
		return withMessage(&api.InvalidRepositoryDescriptionException{},
			"The description for the repository is not valid. Descriptions can be no more than 1,000 characters in length.")
	}
	return nil
}

// CreateRepository makes an empty repository.
func (s *Service) CreateRepository(ctx context.Context, in *api.CreateRepositoryInput) (*api.CreateRepositoryOutput, error) {
	sc := overcast.ScopeOf(ctx)
	name := service.Deref(in.RepositoryName)
	if err := checkRepositoryName(name); err != nil {
		return nil, err
	}
	if err := checkDescription(in.RepositoryDescription); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	now := s.Now()
	r := repository{ID: s.IDs.UUID(), Name: name, Description: service.Deref(in.RepositoryDescription),
		Created: now, Modified: now, KMSKeyID: service.Deref(in.KmsKeyId), Tags: in.Tags}
	dir := s.dir(sc, r.ID)
	if _, err := git.InitBare(ctx, dir, initialBranch); err != nil {
		return nil, err
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, repositoriesTable, sc.Key(name), r, 0)
		if errors.Is(err, store.ErrConflict) {
			return withMessage(&api.RepositoryNameExistsException{}, "Repository named %s already exists", name)
		}
		return err
	})
	if err != nil {
		s.removeAll(dir)
		return nil, err
	}
	return &api.CreateRepositoryOutput{RepositoryMetadata: s.metadata(sc, &r)}, nil
}

// GetRepository describes a repository.
func (s *Service) GetRepository(ctx context.Context, in *api.GetRepositoryInput) (*api.GetRepositoryOutput, error) {
	sc, r, err := s.lookup(ctx, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return &api.GetRepositoryOutput{RepositoryMetadata: s.metadata(sc, &r)}, nil
}

// BatchGetRepositories describes up to 25 repositories, listing the names
// that do not exist apart.
func (s *Service) BatchGetRepositories(ctx context.Context, in *api.BatchGetRepositoriesInput) (*api.BatchGetRepositoriesOutput, error) {
	sc := overcast.ScopeOf(ctx)
	if len(in.RepositoryNames) == 0 {
		return nil, withMessage(&api.RepositoryNamesRequiredException{}, "At least one repository name is required but was not specified.")
	}
	if len(in.RepositoryNames) > 25 {
		return nil, withMessage(&api.MaximumRepositoryNamesExceededException{},
			"The maximum number of allowed repository names was exceeded. Currently, this number is 25.")
	}
	for _, name := range in.RepositoryNames {
		if err := checkRepositoryName(name); err != nil {
			return nil, err
		}
	}
	out := &api.BatchGetRepositoriesOutput{Repositories: api.RepositoryMetadataList{}, RepositoriesNotFound: api.RepositoryNotFoundList{}}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		for _, name := range service.Distinct(in.RepositoryNames) {
			r, _, err := getRepository(tx, sc, name)
			if isRepositoryMissing(err) {
				out.RepositoriesNotFound = append(out.RepositoriesNotFound, name)
				continue
			}
			if err != nil {
				return err
			}
			out.Repositories = append(out.Repositories, *s.metadata(sc, &r))
		}
		return nil
	})
	return out, err
}

// ListRepositories lists repository names and IDs, by name (the default)
// or last modification, a page of 1000 at a time.
func (s *Service) ListRepositories(ctx context.Context, in *api.ListRepositoriesInput) (*api.ListRepositoriesOutput, error) {
	sc := overcast.ScopeOf(ctx)
	sortBy := service.DerefOr(in.SortBy, api.SortByEnumRepositoryName)
	if sortBy != api.SortByEnumRepositoryName && sortBy != api.SortByEnumLastModifiedDate {
		return nil, withMessage(&api.InvalidSortByException{}, "The specified sort by value is not valid.")
	}
	order := service.DerefOr(in.Order, api.OrderEnumAscending)
	if order != api.OrderEnumAscending && order != api.OrderEnumDescending {
		return nil, withMessage(&api.InvalidOrderException{}, "The specified sort order is not valid.")
	}
	start, err := pageStart(in.NextToken)
	if err != nil {
		return nil, err
	}
	var all []repository
	err = s.Store.View(ctx, func(tx store.Tx) error {
		all, err = store.FilterJSON(tx, repositoriesTable, store.ScanOptions{Prefix: sc.Prefix()}, func(repository) bool { return true })
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b repository) int {
		c := cmp.Compare(a.Name, b.Name)
		if sortBy == api.SortByEnumLastModifiedDate {
			c = cmp.Or(a.Modified.Compare(b.Modified), c)
		}
		if order == api.OrderEnumDescending {
			c = -c
		}
		return c
	})
	page, next, err := pageOf(all, start, listPageSize)
	if err != nil {
		return nil, err
	}
	out := &api.ListRepositoriesOutput{Repositories: api.RepositoryNameIdPairList{}, NextToken: next}
	for _, r := range page {
		out.Repositories = append(out.Repositories, api.RepositoryNameIdPair{RepositoryName: new(r.Name), RepositoryId: new(r.ID)})
	}
	return out, nil
}

// DeleteRepository deletes a repository and its git data. A repository
// that does not exist is no error: AWS answers with no ID.
func (s *Service) DeleteRepository(ctx context.Context, in *api.DeleteRepositoryInput) (*api.DeleteRepositoryOutput, error) {
	sc := overcast.ScopeOf(ctx)
	name := service.Deref(in.RepositoryName)
	if err := checkRepositoryName(name); err != nil {
		return nil, err
	}
	var r repository
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		if r, _, err = getRepository(tx, sc, name); err != nil {
			return err
		}
		return tx.Delete(repositoriesTable, sc.Key(name), store.AnyVersion)
	})
	if isRepositoryMissing(err) {
		return &api.DeleteRepositoryOutput{}, nil
	}
	if err != nil {
		return nil, err
	}
	s.removeAll(s.dir(sc, r.ID))
	return &api.DeleteRepositoryOutput{RepositoryId: new(r.ID)}, nil
}

// UpdateRepositoryName renames a repository; its git data stays where it
// is (under its ID).
func (s *Service) UpdateRepositoryName(ctx context.Context, in *api.UpdateRepositoryNameInput) error {
	sc := overcast.ScopeOf(ctx)
	oldName, newName := service.Deref(in.OldName), service.Deref(in.NewName)
	for _, n := range []string{oldName, newName} {
		if err := checkRepositoryName(n); err != nil {
			return err
		}
	}
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		r, ver, err := getRepository(tx, sc, oldName)
		if err != nil || oldName == newName {
			return err
		}
		if err := tx.Delete(repositoriesTable, sc.Key(oldName), ver); err != nil {
			return err
		}
		r.Name = newName
		r.Modified = s.Now()
		_, err = store.PutJSON(tx, repositoriesTable, sc.Key(newName), r, 0)
		if errors.Is(err, store.ErrConflict) {
			if _, _, gerr := getRepository(tx, sc, newName); gerr == nil {
				return withMessage(&api.RepositoryNameExistsException{}, "Repository named %s already exists", newName)
			}
		}
		return err
	})
}

// UpdateRepositoryDescription sets or clears a repository's description.
func (s *Service) UpdateRepositoryDescription(ctx context.Context, in *api.UpdateRepositoryDescriptionInput) error {
	if err := checkDescription(in.RepositoryDescription); err != nil {
		return err
	}
	_, err := s.update(ctx, service.Deref(in.RepositoryName), func(r *repository) error {
		r.Description = service.Deref(in.RepositoryDescription)
		r.Modified = s.Now()
		return nil
	})
	return err
}

// checkTags answers AWS's errors for tags CodeCommit refuses.
func checkTags(tags map[string]string) error {
	if len(tags) > 50 {
		return withMessage(&api.TooManyTagsException{}, "The maximum number of tags for a resource has been exceeded.")
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if k == "" || utf8.RuneCountInString(k) > 128 || utf8.RuneCountInString(tags[k]) > 256 {
			return withMessage(&api.InvalidTagsMapException{}, "The map of tags is not valid.")
		}
		if len(k) >= 4 && k[:4] == "aws:" {
			return withMessage(&api.InvalidSystemTagUsageException{}, "The tag key (%s) is not valid: tags starting with aws: are reserved.", k)
		}
	}
	return nil
}
