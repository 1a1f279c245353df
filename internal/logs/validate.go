package logs

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The model's constraints, checked here because the codec only checks
// required members; CloudWatch Logs reports violations as
// InvalidParameterException in the usual "validation error" wording.
var groupNameRE = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)

func constraintError(value, member, constraint string) error {
	return invalidParameter("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

func checkGroupName(member, name string) error {
	switch {
	case name == "":
		return constraintError(name, member, "Member must have length greater than or equal to 1")
	case len(name) > 512:
		return constraintError(name, member, "Member must have length less than or equal to 512")
	case !groupNameRE.MatchString(name):
		return constraintError(name, member, `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)
	}
	return nil
}

// checkNewGroupName adds what only creation refuses: the aws/ namespace
// belongs to AWS's own services.
func checkNewGroupName(name string) error {
	if err := checkGroupName("logGroupName", name); err != nil {
		return err
	}
	if strings.HasPrefix(name, "aws/") {
		return invalidParameter("Log group names cannot start with 'aws/'.")
	}
	return nil
}

func checkStreamName(member, name string) error {
	switch {
	case name == "":
		return constraintError(name, member, "Member must have length greater than or equal to 1")
	case utf8.RuneCountInString(name) > 512:
		return constraintError(name, member, "Member must have length less than or equal to 512")
	case strings.ContainsAny(name, ":*"), strings.ContainsRune(name, 0), !utf8.ValidString(name):
		return constraintError(name, member, "Member must satisfy regular expression pattern: [^:*]*")
	}
	return nil
}

// checkLimit returns the limit to use: def when unset, an error outside
// [1, max].
func checkLimit(limit *int32, def, max int) (int, error) {
	if limit == nil {
		return def, nil
	}
	switch n := int(*limit); {
	case n < 1:
		return 0, constraintError(fmt.Sprint(n), "limit", "Member must have value greater than or equal to 1")
	case n > max:
		return 0, constraintError(fmt.Sprint(n), "limit", fmt.Sprintf("Member must have value less than or equal to %d", max))
	default:
		return n, nil
	}
}

// validRetention is the enum PutRetentionPolicy accepts, in AWS's order.
var validRetention = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func checkRetention(days int32) error {
	for _, d := range validRetention {
		if d == days {
			return nil
		}
	}
	set := make([]string, len(validRetention))
	for i, d := range validRetention {
		set[i] = fmt.Sprint(d)
	}
	return constraintError(fmt.Sprint(days), "retentionInDays", "Member must satisfy enum value set: ["+strings.Join(set, ", ")+"]")
}

var validClasses = []string{"STANDARD", "INFREQUENT_ACCESS", "DELIVERY"}

func checkClass(class string) error {
	for _, c := range validClasses {
		if c == class {
			return nil
		}
	}
	return constraintError(class, "logGroupClass", "Member must satisfy enum value set: ["+strings.Join(validClasses, ", ")+"]")
}

var tagKeyRE = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)

// checkTags validates tag keys and values as the model constrains them.
func checkTags(tags map[string]string) error {
	for k, v := range tags {
		if err := checkTagKey(k); err != nil {
			return err
		}
		if utf8.RuneCountInString(v) > 256 {
			return constraintError(v, "tags", "Member must have length less than or equal to 256")
		}
	}
	return nil
}

func checkTagKey(k string) error {
	switch {
	case k == "" || utf8.RuneCountInString(k) > 128:
		return constraintError(k, "tags", "Member must have length between 1 and 128")
	case !tagKeyRE.MatchString(k):
		return constraintError(k, "tags", `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return invalidParameter("Tag keys starting with 'aws:' are reserved for AWS use.")
	}
	return nil
}
