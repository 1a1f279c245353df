package codecommit

import (
	"slices"

	"overcast/internal/store"
)

// renameRepositoryReferences points the pull requests, comments and template associations of a
// renamed repository at its new name, in the rename's transaction.
func renameRepositoryReferences(tx store.Tx, sc scope, oldName, newName string) error {
	err := rewriteJSON(tx, pullRequestsTable, sc, func(pr *pullRequest) bool {
		changed := false
		for i := range pr.Targets {
			if pr.Targets[i].Repository == oldName {
				pr.Targets[i].Repository, changed = newName, true
			}
		}
		return changed
	})
	if err != nil {
		return err
	}
	err = rewriteJSON(tx, commentsTable, sc, func(c *comment) bool {
		if c.Repository != oldName {
			return false
		}
		c.Repository = newName
		return true
	})
	if err != nil {
		return err
	}
	return rewriteJSON(tx, approvalRuleTemplatesTable, sc, func(t *ruleTemplate) bool {
		i := slices.Index(t.Repositories, oldName)
		if i >= 0 {
			t.Repositories[i] = newName
		}
		return i >= 0
	})
}

// dissociateTemplates removes a deleted repository from the templates associated with it, so that
// a new repository of the same name starts with none.
func dissociateTemplates(tx store.Tx, sc scope, repository string) error {
	return rewriteJSON(tx, approvalRuleTemplatesTable, sc, func(t *ruleTemplate) bool {
		i := slices.Index(t.Repositories, repository)
		if i >= 0 {
			t.Repositories = slices.Delete(t.Repositories, i, i+1)
		}
		return i >= 0
	})
}

// rewriteJSON applies change to each of the scope's records in table, writing back those it changed.
func rewriteJSON[T any](tx store.Tx, table string, sc scope, change func(*T) bool) error {
	type changed struct {
		key     string
		value   T
		version int64
	}
	var writes []changed
	err := store.ScanJSON(tx, table, store.ScanOptions{Prefix: sc.Prefix()}, func(key string, v T, version int64) error {
		if change(&v) {
			writes = append(writes, changed{key, v, version})
		}
		return nil
	})
	for _, w := range writes {
		if err != nil {
			break
		}
		_, err = store.PutJSON(tx, table, w.key, w.value, w.version)
	}
	return err
}
