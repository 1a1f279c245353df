package ssm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"overcast/internal/awstest"
)

// TestErrorsTable holds Parameter Store's most common failures to the
// codes, statuses and messages AWS answers them with. Unless a row says
// otherwise, the code is from the operation's Errors section in the
// Systems Manager API Reference (every one of them HTTP 400), and the
// message is the text AWS sends, as aws CLI users quote it.
func TestErrorsTable(t *testing.T) {
	_, c := start(t)
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/app/db"), Value: aws.String("v1"), Type: types.ParameterTypeString})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/app/port"), Value: aws.String("80"), Type: types.ParameterTypeString,
		AllowedPattern: aws.String(`^\d+$`)})
	awstest.Call(t, c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/app/big"), Value: aws.String("v"), Type: types.ParameterTypeString,
		Tier: types.ParameterTierAdvanced})
	put := func(in ssm.PutParameterInput) func(context.Context) error {
		if in.Value == nil {
			in.Value = aws.String("v")
		}
		if in.Type == "" {
			in.Type = types.ParameterTypeString
		}
		return awstest.Fails(c.PutParameter, &in)
	}
	tooDeep := "/" + strings.Repeat("a/", 15) + "p"

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		// GetParameter and DeleteParameter answer an unknown name with no
		// message at all: "An error occurred (ParameterNotFound) when
		// calling the GetParameter operation: " (awslabs/aws-simple-cicd#10,
		// mattclay/aws-terminator#113 for DeleteParameter).
		{Name: "GetParameter: no such parameter", Call: awstest.Fails(c.GetParameter, &ssm.GetParameterInput{Name: aws.String("/app/nope")}),
			Want: awstest.APIError{Code: "ParameterNotFound", Status: 400, NoMessage: true}},
		{Name: "DeleteParameter: no such parameter", Call: awstest.Fails(c.DeleteParameter, &ssm.DeleteParameterInput{Name: aws.String("/app/nope")}),
			Want: awstest.APIError{Code: "ParameterNotFound", Status: 400, NoMessage: true}},
		{Name: "GetParameter: no such version", Call: awstest.Fails(c.GetParameter, &ssm.GetParameterInput{Name: aws.String("/app/db:9")}),
			Want: awstest.BadRequest("ParameterVersionNotFound", "Systems Manager could not find version 9 of /app/db. Verify the version and try again.")},
		{Name: "PutParameter: exists", Call: put(ssm.PutParameterInput{Name: aws.String("/app/db")}),
			Want: awstest.BadRequest("ParameterAlreadyExists",
				"The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")},
		{Name: "PutParameter: tags with overwrite", Call: put(ssm.PutParameterInput{Name: aws.String("/app/db"), Overwrite: aws.Bool(true),
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}),
			Want: awstest.BadRequest("ValidationException",
				"Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. "+
					"To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")},
		// "Requirements and constraints for parameter names" (Systems
		// Manager User Guide): the reserved prefixes, the characters and
		// the 15 levels, each refused in these words.
		{Name: "PutParameter: reserved prefix", Call: put(ssm.PutParameterInput{Name: aws.String("ssmthing")}),
			Want: awstest.BadRequest("ValidationException", `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`)},
		{Name: "PutParameter: a space in the name", Call: put(ssm.PutParameterInput{Name: aws.String("/app/my param")}),
			Want: awstest.BadRequest("ValidationException",
				`Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; `+
					"each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")},
		{Name: "PutParameter: a relative path", Call: put(ssm.PutParameterInput{Name: aws.String("app/db")}),
			Want: awstest.BadRequest("ValidationException", "Parameter name must be a fully qualified name.")},
		{Name: "PutParameter: 16 levels", Call: put(ssm.PutParameterInput{Name: aws.String(tooDeep)}),
			Want: awstest.BadRequest("HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels.")},
		{Name: "PutParameter: a new parameter without a type", Call: awstest.Fails(c.PutParameter, &ssm.PutParameterInput{Name: aws.String("/app/new"),
			Value: aws.String("v")}),
			Want: awstest.BadRequest("ValidationException", "A parameter type is required when you create a parameter.")},
		{Name: "PutParameter: an empty value", Call: put(ssm.PutParameterInput{Name: aws.String("/app/new"), Value: aws.String("")}),
			Want: awstest.BadRequest("ValidationException",
				"1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.")},
		// "Managing parameter tiers" (Systems Manager User Guide): 4 KB
		// standard, 8 KB advanced, no way back from advanced.
		{Name: "PutParameter: over 4 KB in the standard tier", Call: put(ssm.PutParameterInput{Name: aws.String("/app/new"), Value: aws.String(strings.Repeat("x", 4097)),
			Tier: types.ParameterTierStandard}),
			Want: awstest.BadRequest("ValidationException",
				"Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.")},
		{Name: "PutParameter: advanced back to standard", Call: put(ssm.PutParameterInput{Name: aws.String("/app/big"), Overwrite: aws.Bool(true),
			Tier: types.ParameterTierStandard}),
			Want: awstest.BadRequest("ValidationException",
				"This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. "+
					"If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")},
		{Name: "PutParameter: value against its allowed pattern", Call: put(ssm.PutParameterInput{Name: aws.String("/app/port"), Value: aws.String("eighty"),
			Overwrite: aws.Bool(true)}),
			Want: awstest.BadRequest("ParameterPatternMismatchException", `Parameter value, cannot be validated against allowedPattern: ^\d+$`)},
		{Name: "PutParameter: unknown type", Call: put(ssm.PutParameterInput{Name: aws.String("/app/new"), Type: "Text"}),
			Want: awstest.BadRequest("ValidationException",
				"1 validation error detected: Value 'Text' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]")},
		{Name: "GetParameters: more than 10 names", Call: awstest.Fails(c.GetParameters, &ssm.GetParametersInput{Names: strings.Fields("a b c d e f g h i j k")}),
			Want: awstest.BadRequest("ValidationException", "at 'names' failed to satisfy constraint: Member must have length less than or equal to 10")},
		{Name: "GetParametersByPath: a path without its slash", Call: awstest.Fails(c.GetParametersByPath, &ssm.GetParametersByPathInput{Path: aws.String("app")}),
			Want: awstest.BadRequest("ValidationException",
				`The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/".`)},
		{Name: "GetParametersByPath: made-up NextToken", Call: awstest.Fails(c.GetParametersByPath, &ssm.GetParametersByPathInput{Path: aws.String("/app"),
			NextToken: aws.String("!!!")}),
			Want: awstest.BadRequest("InvalidNextToken", "The specified token isn't valid.")},
		{Name: "DescribeParameters: Filters and ParameterFilters", Call: awstest.Fails(c.DescribeParameters, &ssm.DescribeParametersInput{
			Filters:          []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/app/db"}}},
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"/app/db"}}}}),
			Want: awstest.BadRequest("ValidationException", "You can use either Filters or ParameterFilters in a single request.")},
		{Name: "LabelParameterVersion: no such version", Call: awstest.Fails(c.LabelParameterVersion, &ssm.LabelParameterVersionInput{Name: aws.String("/app/db"),
			ParameterVersion: aws.Int64(9), Labels: []string{"prod"}}),
			Want: awstest.BadRequest("ParameterVersionNotFound", "Systems Manager could not find version 9 of /app/db. Verify the version and try again.")},
		// AddTagsToResource's reference: an ID that names nothing is
		// InvalidResourceId, and AWS says no more than that.
		{Name: "AddTagsToResource: no such parameter", Call: awstest.Fails(c.AddTagsToResource, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter,
			ResourceId: aws.String("/app/nope"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}),
			Want: awstest.APIError{Code: "InvalidResourceId", Status: 400, NoMessage: true}},
	})
}
