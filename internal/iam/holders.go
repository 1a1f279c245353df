package iam

import (
	"errors"
	"strings"

	api "overcast/internal/api/iam"
	"overcast/internal/store"
)

// holder is an entity that policies attach to and inline policies live
// in: a user, a group or a role.
type holder interface {
	entity
	attachedPolicies() *[]string
	inlinePolicies() *[]inlinePolicy
}

func (u *userRec) attachedPolicies() *[]string      { return &u.Attached }
func (u *userRec) inlinePolicies() *[]inlinePolicy  { return &u.Inline }
func (g *groupRec) attachedPolicies() *[]string     { return &g.Attached }
func (g *groupRec) inlinePolicies() *[]inlinePolicy { return &g.Inline }
func (r *roleRec) attachedPolicies() *[]string      { return &r.Attached }
func (r *roleRec) inlinePolicies() *[]inlinePolicy  { return &r.Inline }

// holderKind is what differs between users, groups and roles when
// policies are attached to them or put in them.
type holderKind struct {
	kind        string // "user", "group", "role": in messages and attachment keys
	table       entityTable
	maxAttached int
	quotaName   string // as LimitExceeded names the attachment quota
	inlineQuota int    // characters, all inline policies together
}

var (
	userHolder = holderKind{kind: "user", table: users.table,
		maxAttached: 10, quotaName: "PoliciesPerUser", inlineQuota: userInlineSizeQuota}
	groupHolder = holderKind{kind: "group", table: groups.table,
		maxAttached: 10, quotaName: "PoliciesPerGroup", inlineQuota: groupInlineSizeQuota}
	roleHolder = holderKind{kind: "role", table: roles.table,
		maxAttached: 20, quotaName: "PoliciesPerRole", inlineQuota: roleInlineSizeQuota}
)

func (k holderKind) notFound(name string) error {
	return api.NewNoSuchEntityException("The %s with name %s cannot be found.", k.kind, name)
}

// load reads the named holder.
func (k holderKind) load(tx store.Tx, acct, name string) (holder, int64, error) {
	var h holder
	switch k.kind {
	case "user":
		h = new(userRec)
	case "group":
		h = new(groupRec)
	default:
		h = new(roleRec)
	}
	version, err := k.table.get(tx, acct, name, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, k.notFound(name)
	}
	return h, version, err
}

// modifiable refuses changes to a service-linked role's policies, which
// belong to the service.
func modifiable(h holder) error {
	if r, ok := h.(*roleRec); ok && r.ServiceLinked != "" {
		return protectedRole(r.Name)
	}
	return nil
}

func protectedRole(name string) error {
	return api.NewUnmodifiableEntityException("Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", name)
}

// Policy attachments are indexed by policy so that AttachmentCount,
// ListEntitiesForPolicy and DeletePolicy's check are prefix operations.
const (
	usagePermissions = "P"
	usageBoundary    = "B"
)

func attachmentPrefix(acct, arn string) string { return acct + "/" + arn + "|" }

func attachmentKey(acct, arn, usage, kind, name string) string {
	return attachmentPrefix(acct, arn) + usage + "|" + kind + "|" + strings.ToLower(name)
}

func addAttachment(tx store.Tx, acct, arn, usage, kind, name string) error {
	_, err := tx.Put(attachmentsTable, attachmentKey(acct, arn, usage, kind, name), []byte(name), store.AnyVersion)
	return err
}

func removeAttachment(tx store.Tx, acct, arn, usage, kind, name string) error {
	err := tx.Delete(attachmentsTable, attachmentKey(acct, arn, usage, kind, name), store.AnyVersion)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// forEachAttachment calls fn for each policy a holder uses: attached as
// permissions policies, then as its permissions boundary (if any).
func forEachAttachment(attached []string, boundary string, fn func(arn, usage string) error) error {
	for _, arn := range attached {
		if err := fn(arn, usagePermissions); err != nil {
			return err
		}
	}
	if boundary != "" {
		return fn(boundary, usageBoundary)
	}
	return nil
}

// renameAttachments re-keys a renamed entity's attachment index entries.
func renameAttachments(tx store.Tx, acct, kind, oldName, newName string, attached []string, boundary string) error {
	return forEachAttachment(attached, boundary, func(arn, usage string) error {
		if err := removeAttachment(tx, acct, arn, usage, kind, oldName); err != nil {
			return err
		}
		return addAttachment(tx, acct, arn, usage, kind, newName)
	})
}

// releaseAttachments drops a deleted entity's attachment index entries.
func releaseAttachments(tx store.Tx, acct, kind, name string, attached []string, boundary string) error {
	return forEachAttachment(attached, boundary, func(arn, usage string) error {
		return removeAttachment(tx, acct, arn, usage, kind, name)
	})
}

func attachmentCount(tx store.Tx, acct, arn, usage string) (int, error) {
	return tx.Count(attachmentsTable, attachmentPrefix(acct, arn)+usage+"|")
}
