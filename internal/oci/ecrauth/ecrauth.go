// Package ecrauth authenticates to Amazon ECR registries as ko and
// amazon-ecr-credential-helper do: with the token of ECR's
// GetAuthorizationToken (user AWS, a password valid for 12 hours), from
// the AWS SDK's standard credential chain, so that pushing to ECR needs
// no `docker login`.
package ecrauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
)

// ecrHost is a private ECR registry's host name:
// ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com (.com.cn in China).
var ecrHost = regexp.MustCompile(`^\d{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// Region is the AWS region of an ECR registry host, and whether host is
// one.
func Region(host string) (string, bool) {
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		return "", false
	}
	return m[2], true
}

// Keychain answers for ECR registries with ECR's token, and with
// authn.Anonymous for every other registry (compose it with another
// keychain, authn.NewMultiKeychain, for those). The token is asked for
// once per registry and kept.
type Keychain struct {
	// Registry, when set, is the one registry the keychain answers for,
	// whatever its host name: a repository the user named as ECR's.
	// Empty answers for every host of ECR's form.
	Registry string
	// Client asks ECR for the token; nil loads the AWS configuration
	// (the standard chain) for the registry's region when first needed.
	Client *ecr.Client

	mu     sync.Mutex
	tokens map[string]authn.Authenticator
}

var _ authn.ContextKeychain = (*Keychain)(nil)

// Resolve implements authn.Keychain.
func (k *Keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

// ResolveContext implements authn.ContextKeychain.
func (k *Keychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	host := r.RegistryStr()
	region, isECR := Region(host)
	if k.Registry != "" {
		isECR = host == k.Registry
	}
	if !isECR {
		return authn.Anonymous, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if a, ok := k.tokens[host]; ok {
		return a, nil
	}
	client := k.Client
	if client == nil {
		var opts []func(*config.LoadOptions) error
		if region != "" {
			opts = append(opts, config.WithRegion(region))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("loading the AWS configuration for %s: %w", host, err)
		}
		client = ecr.NewFromConfig(cfg)
	}
	out, err := client.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, fmt.Errorf("getting an ECR authorization token for %s: %w", host, err)
	}
	if len(out.AuthorizationData) == 0 {
		return nil, errors.New("ECR returned no authorization token")
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		return nil, fmt.Errorf("ECR's authorization token is not base64: %v", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, errors.New("ECR's authorization token is not USER:PASSWORD")
	}
	a := &authn.Basic{Username: user, Password: pass}
	if k.tokens == nil {
		k.tokens = map[string]authn.Authenticator{}
	}
	k.tokens[host] = a
	return a, nil
}
