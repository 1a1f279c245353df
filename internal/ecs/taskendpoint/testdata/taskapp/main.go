// Command taskapp is the program of the task endpoint's test image: it
// does what an application in an ECS task does to find its credentials,
// metadata and API, and prints what it got.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	// The credentials, as the SDKs fetch them.
	credsURL := os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if rel := os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		credsURL = "http://169.254.170.2" + rel
	}
	req, _ := http.NewRequest(http.MethodGet, credsURL, nil)
	if token := os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"); token != "" {
		req.Header.Set("Authorization", token)
	}
	fmt.Println("credentials:", get(req))

	// The task's metadata.
	req, _ = http.NewRequest(http.MethodGet, os.Getenv("ECS_CONTAINER_METADATA_URI_V4")+"/task", nil)
	var task struct{ TaskARN string }
	json.Unmarshal([]byte(get(req)), &task)
	fmt.Println("task:", task.TaskARN)

	// Who the SDK's container credentials provider makes us, on the
	// endpoint the task was given.
	provider := endpointcreds.New(credsURL, func(o *endpointcreds.Options) {
		o.AuthorizationToken = os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
	})
	client := sts.New(sts.Options{Region: os.Getenv("AWS_REGION"), BaseEndpoint: aws.String(os.Getenv("AWS_ENDPOINT_URL")),
		Credentials: aws.NewCredentialsCache(provider)})
	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Println("identity error:", err)
		os.Exit(1)
	}
	fmt.Println("identity:", aws.ToString(out.Arn))
}

func get(req *http.Request) string {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Printf("error: %s: %d %s\n", req.URL, resp.StatusCode, b)
		os.Exit(1)
	}
	return string(b)
}
