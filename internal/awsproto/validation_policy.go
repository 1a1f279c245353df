package awsproto

// wording is how a service words a failed check.
type wording uint8

const (
	// coralWording: "1 validation error detected: Value 'x' at 'name'
	// failed to satisfy constraint: Member must ...", every failure.
	coralWording wording = iota
	// ecrWording: "Invalid parameter at 'name' failed to satisfy
	// constraint: 'Member must ...'", the first failure only.
	ecrWording
	// missingParameterWording: "The request must contain the parameter
	// Name", the first missing member only, by its wire name (EC2, SQS).
	missingParameterWording
)

// validationPolicy is how a service answers a request its model rejects.
type validationPolicy struct {
	code    string // the error code, always with HTTP 400
	wording wording
	// model says the codec checks the model's min, max, pattern and enum
	// constraints. Without it only required members are checked, and the
	// service checks the rest in its own words (S3's InvalidArgument,
	// EC2's InvalidParameterValue, ...).
	model bool
	// exempt lists members, as "Shape.Member", whose constraints the
	// service checks itself because AWS words that failure its own way.
	exempt []string
	// fullStop ends a missingParameterWording message with a period.
	fullStop bool
	// malformedBody answers a required member missing from the body as
	// MalformedXML: S3 checks a body against its schema (DeleteObjects
	// with no Object, a lifecycle configuration with no Rule).
	malformedBody bool
}

// validationPolicies says, per service (by Service.ID), how AWS answers a
// request that breaks the model, with the evidence it was decided from;
// "default" marks a row not yet compared with AWS, set to what its
// protocol family does. TestEveryServiceHasAValidationPolicy keeps the
// table complete.
var validationPolicies = map[string]validationPolicy{
	// Query services: Coral's validation, answered as ValidationError.
	//
	// "Value 'bad name' at 'userName' ... pattern: [\w+=,.@-]+" (IAM's tests).
	"iam": {code: "ValidationError", model: true},
	// "'roleSessionName' failed to satisfy constraint: Member must have length
	// less than or equal to 64" (youyo/awslogin#20).
	"sts": {code: "ValidationError", model: true},
	// "ValidationError: 2 validation errors detected: Value '' at 'stackName'
	// ... pattern ...; ... length" (issue reports).
	"cloudformation": {code: "ValidationError", model: true},
	// "Value null at 'tags' ..." (fog's recorded mock).
	"autoscaling": {code: "ValidationError", model: true},
	// "Value 'x' at 'ipAddressType' ... enum value set" (moto; research/elbv2-alb.md).
	"elbv2": {code: "ValidationError", model: true},
	// "Value 'x' at 'stateValue' ... enum value set" (moto); the same code
	// over its query-compatible JSON.
	"cloudwatch":       {code: "ValidationError", model: true},
	"elasticbeanstalk": {code: "ValidationError", model: true}, // default
	"rds":              {code: "ValidationError", model: true}, // default
	"sns":              {code: "ValidationError", model: true}, // default

	// Services that word their own errors; the codec checks only that
	// required members are there.
	//
	// "MissingParameter: The request must contain the parameter ImageId"; bad
	// values are EC2's InvalidParameterValue, in its words.
	"ec2": {code: "MissingParameter", wording: missingParameterWording},
	// "The request must contain the parameter QueueUrl." (moto); attribute
	// checks are SQS's own (InvalidAttributeName).
	"sqs": {code: "MissingParameter", wording: missingParameterWording, fullStop: true},
	// InvalidArgument, InvalidStorageClass, InvalidBucketName, ...: S3's own.
	"s3": {code: "InvalidArgument", malformedBody: true},

	// REST XML services: Coral's wording under the service's own code.
	//
	// "1 validation error detected: Value null at
	// 'distributionConfig.origins.items.1.member.domainName'" (aws-sdk-ruby#413),
	// under CloudFront's code for bad input.
	"cloudfront": {code: "InvalidArgument", model: true},
	// "InvalidInput: 1 validation error detected: ... at 'resourceId' ... less
	// than or equal to 32" (terraform-aws-acm#63).
	"route53": {code: "InvalidInput", model: true},

	// JSON services: Coral's wording, mostly as ValidationException.
	//
	// "InvalidParameterException: 1 validation error detected: Value
	// 'a:b' at 'logGroupName' ..." (aws-embedded-metrics-java#65, and more).
	"logs": {code: "InvalidParameterException", model: true},
	// "InvalidParameterException: Invalid parameter at 'imageIds' failed to
	// satisfy constraint: 'Member must have length less than or equal to
	// 100'" (trek10inc/ecr-cleaner#8; jenkins-x#1344 for patterns).
	"ecr": {code: "InvalidParameterException", wording: ecrWording, model: true},
	// An empty value gets SSM's own sentence, with a full stop, and a bad type
	// lists AWS's set order, [SecureString, StringList, String] (both as moto
	// recorded them): SSM checks those two itself.
	"ssm": {code: "ValidationException", model: true, exempt: []string{"PutParameterRequest.Value", "PutParameterRequest.Type"}},
	// "ValidationException ... at 'role' ... regular expression pattern" (moto).
	"lambda": {code: "ValidationException", model: true},
	// "Value 'x' at 'state' ... enum value set" (moto).
	"events": {code: "ValidationException", model: true},
	// "Map value must satisfy constraint: [...] (Error Code: ValidationException)"
	// (aws-service-catalog-factory#279).
	"codepipeline":   {code: "ValidationException", model: true},
	"secretsmanager": {code: "ValidationException", model: true}, // "Value at 'secretString' ..." (its tests)
	// These model a ValidationException shape of their own.
	"acm":                    {code: "ValidationException", model: true},
	"applicationautoscaling": {code: "ValidationException", model: true},
	"codeartifact":           {code: "ValidationException", model: true},
	"codegurureviewer":       {code: "ValidationException", model: true},
	"codeguruprofiler":       {code: "ValidationException", model: true},
	"efs":                    {code: "ValidationException", model: true},
	// Default. Their named checks (ECS's ClientException, CodeBuild's
	// InvalidInputException, CodeCommit's InvalidRepositoryNameException,
	// CodeDeploy's InvalidApplicationNameException, ...) are the services'.
	"kms":                 {code: "ValidationException", model: true},
	"ecs":                 {code: "ValidationException", model: true},
	"codebuild":           {code: "ValidationException", model: true},
	"codedeploy":          {code: "ValidationException", model: true},
	"codeconnections":     {code: "ValidationException", model: true},
	"codestarconnections": {code: "ValidationException", model: true},
	"cloudtrail":          {code: "ValidationException", model: true},

	// CodeCommit names every bad input (InvalidRepositoryNameException,
	// InvalidSortByException, InvalidBranchNameException, ...): the service
	// checks them in its words.
	"codecommit": {code: "ValidationException"},
}

// validationPolicyFor is svc's row of validationPolicies, or its protocol
// family's default.
func validationPolicyFor(svc *Service) validationPolicy {
	if p, ok := validationPolicies[svc.ID]; ok {
		return p
	}
	switch {
	case svc.Speaks("ec2"):
		return validationPolicies["ec2"]
	case svc.Speaks("query") && !svc.Speaks("json"):
		return validationPolicy{code: "ValidationError", model: true}
	case svc.Speaks("rest-xml"):
		return validationPolicy{code: "InvalidArgument", model: true}
	}
	return validationPolicy{code: "ValidationException", model: true}
}
