package ssm

import (
	"net/http"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/ssm"
	"overcast/internal/awsproto"
)

// AWS's limits on names.
const (
	maxNameLength     = 1011
	maxHierarchyDepth = 15
)

const (
	msgNameRule = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). ` +
		`If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be ` +
		`formed as a mix of letters, numbers and the following 3 symbols .-_`
	msgReservedPrefix    = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`
	msgReservedSSMPrefix = `Parameter name: can't be prefixed with "ssm" (case-insensitive). ` +
		`If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be ` +
		`formed as a mix of letters, numbers and the following 3 symbols .-_`
	msgPathRule = `The parameter doesn't meet the parameter name requirements. The parameter name must ` +
		`begin with a forward slash "/". It can't be prefixed with "aws" or "ssm" (case-insensitive). ` +
		`It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). ` +
		`Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". ` +
		`Valid example: /get/parameters2-/by1./path0_.`
	msgHierarchyLimit = "A hierarchy can have a maximum of 15 levels. For more information, see " +
		"Requirements and constraints for parameter names in the AWS Systems Manager User Guide."
)

// validateName applies PutParameter's naming rules, in the order AWS
// reports them.
func validateName(name string) error {
	if len(name) > maxNameLength {
		return validationError("Parameter name: The maximum length for a fully qualified parameter name is %d characters.", maxNameLength)
	}
	isPath := strings.HasPrefix(name, "/")
	if !isPath && strings.Contains(name, "/") {
		return validationError("Parameter name must be a fully qualified name.")
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(name, "/"), "/")
	first = strings.ToLower(first)
	if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		switch {
		case strings.Count(name, "/") > 1 && strings.HasPrefix(first, "aws"):
			// AWS answers the /aws/... namespace, where its public
			// parameters live, as a permission problem.
			return &awsproto.Error{Code: "AccessDeniedException", Status: http.StatusBadRequest,
				Message: "No access to reserved parameter name: " + strings.TrimPrefix(name, "/") + "."}
		case strings.Count(name, "/") > 1:
			return validationError("%s", msgReservedSSMPrefix)
		default:
			return validationError("%s", msgReservedPrefix)
		}
	}
	segments := strings.Split(strings.TrimPrefix(name, "/"), "/")
	for _, seg := range segments {
		if !validSegment(seg) {
			return validationError("%s", msgNameRule)
		}
	}
	if len(segments) > maxHierarchyDepth {
		return api.NewHierarchyLevelLimitExceededException("%s", msgHierarchyLimit)
	}
	return nil
}

// validSegment reports whether s is one level of a name: letters, digits
// and . - _ only.
func validSegment(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// normalizePath validates a hierarchy path (GetParametersByPath, the Path
// filter) and returns it without a trailing slash, "/" for the root.
func normalizePath(path string) (string, error) {
	if !strings.HasPrefix(path, "/") {
		return "", validationError("%s", msgPathRule)
	}
	if path == "/" {
		return path, nil
	}
	trimmed := strings.TrimSuffix(path, "/")
	segments := strings.Split(trimmed[1:], "/")
	for _, seg := range segments {
		if !validSegment(seg) {
			return "", validationError("%s", msgPathRule)
		}
	}
	if len(segments) > maxHierarchyDepth {
		return "", api.NewHierarchyLevelLimitExceededException("%s", msgHierarchyLimit)
	}
	return trimmed, nil
}

// parentPath is the hierarchy level a parameter sits in: "/a" for "/a/b",
// and the root "/" both for "/a" and for names without slashes.
func parentPath(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i <= 0 {
		return "/"
	}
	return name[:i]
}

// inPath reports whether name is under path ("/" or a normalized path),
// directly or, when recursive, at any depth.
func inPath(name, path string, recursive bool) bool {
	if !recursive {
		return parentPath(name) == path
	}
	return path == "/" || strings.HasPrefix(name, path+"/")
}

// ref is a parameter as a request names it: a name or an ARN, optionally
// with a selector (":3" for a version, ":prod" for a label).
type ref struct {
	scope
	// names to try in order: an ARN's "parameter/x" may name "x" or "/x".
	names    []string
	selector string
	raw      string
}

// parseRef parses what GetParameter accepts. ok is false for input that can
// name no parameter; AWS answers those with ParameterNotFound.
func parseRef(sc scope, s string) (r ref, ok bool) {
	r = ref{scope: sc, raw: s}
	if strings.HasPrefix(s, "arn:") {
		a, ok := overcast.ParseARN(s)
		if !ok || a.Service != "ssm" || a.Region == "" || !overcast.IsAccountID(a.AccountID) {
			return r, false
		}
		rest, ok := strings.CutPrefix(a.Resource, "parameter/")
		if !ok || rest == "" {
			return r, false
		}
		r.scope = scope{Account: a.AccountID, Region: a.Region}
		name, sel, hasSel := strings.Cut(rest, ":")
		if hasSel {
			if sel == "" || strings.Contains(sel, ":") {
				return r, false
			}
			r.selector = sel
		}
		if strings.Contains(name, "/") {
			r.names = []string{"/" + name}
		} else {
			r.names = []string{name, "/" + name}
		}
		return r, true
	}
	name, sel, hasSel := strings.Cut(s, ":")
	if hasSel {
		if sel == "" || strings.Contains(sel, ":") {
			return r, false
		}
		r.selector = sel
	}
	if name == "" {
		return r, false
	}
	r.names = []string{name}
	return r, true
}

// selectorVersion returns the version a numeric selector names.
func selectorVersion(sel string) (int64, bool) {
	if sel == "" || sel[0] < '0' || sel[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseInt(sel, 10, 64)
	return v, err == nil
}

// validLabel applies AWS's label rules; labels that break them are returned
// in InvalidLabels rather than failing the request.
func validLabel(l string) bool {
	if l == "" || (l[0] >= '0' && l[0] <= '9') {
		return false
	}
	lower := strings.ToLower(l)
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		return false
	}
	return validSegment(l)
}

// maxLabelsPerVersion is AWS's limit of labels on one parameter version.
const maxLabelsPerVersion = 10
