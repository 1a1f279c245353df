package logs

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The codec checks API requests against the model (names, limits, enums,
// tag keys and values) and answers with InvalidParameterException in the
// usual "validation error" wording. What is left here is what the model
// does not say, and the checks of names that reach the service by other
// roads: Append's callers (ECS's awslogs driver, CodeBuild), and names
// inside identifiers and ARNs.

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

// validRetention is the set PutRetentionPolicy accepts, in AWS's order;
// the model's Days is any integer.
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

// checkReservedTagKeys refuses the aws: prefix, AWS's own.
func checkReservedTagKeys(tags map[string]string) error {
	for k := range tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalidParameter("Tag keys starting with 'aws:' are reserved for AWS use.")
		}
	}
	return nil
}
