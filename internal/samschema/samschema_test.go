package samschema

import (
	"regexp"
	"testing"
)

func TestNotPrefixPattern(t *testing.T) {
	re := regexp.MustCompile(NotPrefixPattern("AWS::Serverless::"))
	for s, want := range map[string]bool{
		"AWS::SQS::Queue": true, "AWS::S3::Bucket": true, "Custom::X": true, "A": true, "AWS::Serverless:": true,
		"AWS::Serverless::Function": false, "AWS::Serverless::": false, "": false,
	} {
		if got := re.MatchString(s); got != want {
			t.Errorf("%q: match %v, want %v", s, got, want)
		}
	}
}

func TestTemplateJSONIntrinsics(t *testing.T) {
	v, err := TemplateJSON([]byte("A: !Ref B\nC: !GetAtt Q.Arn\nD: !Sub 'x-${B}'\nE: [1, true]\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if ref := m["A"].(map[string]any)["Ref"]; ref != "B" {
		t.Errorf("!Ref: %v", m["A"])
	}
	if ga := m["C"].(map[string]any)["Fn::GetAtt"].([]any); len(ga) != 2 || ga[0] != "Q" || ga[1] != "Arn" {
		t.Errorf("!GetAtt: %v", m["C"])
	}
	if _, err := TemplateJSON([]byte("A: !ImportValue x\n")); err == nil {
		t.Error("an unhandled tag was accepted")
	}
}
