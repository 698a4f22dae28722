package ecrauth_test

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/fnopt/fnopt/internal/oci/ecrauth"
	"github.com/fnopt/fnopt/verify/awslambda/lambdatest"
)

func TestRegion(t *testing.T) {
	tests := []struct {
		host, region string
		ecr          bool
	}{
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1", true},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", true},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", true},
		{"public.ecr.aws", "", false},
		{"ghcr.io", "", false},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example", "", false},
	}
	for _, tt := range tests {
		region, ok := ecrauth.Region(tt.host)
		if region != tt.region || ok != tt.ecr {
			t.Errorf("Region(%q) = %q %v, want %q %v", tt.host, region, ok, tt.region, tt.ecr)
		}
	}
}

// TestKeychain asks the ECR double (through the real SDK and the standard
// chain) for the token of an ECR host; other registries are not its.
func TestKeychain(t *testing.T) {
	srv := lambdatest.Start(t, lambdatest.Options{})
	srv.SetEnv(t)
	k := &ecrauth.Keychain{}
	ecrRepo, err := name.NewRepository("123456789012.dkr.ecr.us-east-1.amazonaws.com/fn")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		a, err := authn.Resolve(context.Background(), k, ecrRepo)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Username != lambdatest.RegistryUser || cfg.Password != lambdatest.RegistryPassword {
			t.Errorf("credentials %s:%s", cfg.Username, cfg.Password)
		}
	}
	if n := srv.Calls("ecr:GetAuthorizationToken"); n != 1 {
		t.Errorf("%d token requests, want 1 (kept)", n)
	}
	other, _ := name.NewRepository("ghcr.io/me/fn")
	if a, err := k.Resolve(other); err != nil || a != authn.Anonymous {
		t.Errorf("another registry: %v %v, want Anonymous", a, err)
	}
	// A registry named as ECR's explicitly, whatever its host.
	local, _ := name.NewRepository("127.0.0.1:5000/fn", name.Insecure)
	if a, err := (&ecrauth.Keychain{Registry: "127.0.0.1:5000"}).Resolve(local); err != nil || a == authn.Anonymous {
		t.Errorf("the named registry: %v %v", a, err)
	}
}
