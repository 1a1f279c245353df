package runner

// attachNetwork runs Build.AttachNetwork on the started container.
func (x *build) attachNetwork() outcome {
	if x.b.AttachNetwork == nil {
		return succeeded
	}
	detach, err := x.b.AttachNetwork(x.ctx, x.containerID)
	if err != nil {
		return failed(codeClientError, "%v", err)
	}
	x.detach = detach
	return succeeded
}
