package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeExample is one `$ curl ...` command of the README's "Try it locally" block and the
// output printed under it.
type readmeExample struct {
	command string
	output  string
}

func readmeExamples(t *testing.T) []readmeExample {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	start := strings.Index(readme, "## Try it locally")
	require.GreaterOrEqual(t, start, 0, "README has no Try it locally section")
	block := regexp.MustCompile("(?s)```console\n(.*?)```").FindStringSubmatch(readme[start:])
	require.NotNil(t, block, "the section has no console block")

	var examples []readmeExample
	lines := strings.Split(strings.TrimSuffix(block[1], "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "$ ") {
			examples[len(examples)-1].output += lines[i] + "\n"
			continue
		}
		cmd := strings.TrimPrefix(lines[i], "$ ")
		for strings.HasSuffix(cmd, `\`) { // continued on the next line
			i++
			cmd = strings.TrimSuffix(cmd, `\`) + " " + strings.TrimSpace(lines[i])
		}
		examples = append(examples, readmeExample{command: cmd})
	}
	return examples
}

// shellWords splits a command line the way sh does for what the README uses: single quotes,
// and a # comment.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == '#' && !inWord:
			return words
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestReadmeExamples replays the README's curl commands against `go run ./inference` (run with
// no model directory) and checks that they print what the README says.
func TestReadmeExamples(t *testing.T) {
	base, _, cancel, done := startRun(t, "-port", "0", "-drain-delay", "0s")
	examples := readmeExamples(t)
	require.GreaterOrEqual(t, len(examples), 4)
	for _, ex := range examples {
		t.Run(ex.command, func(t *testing.T) {
			words := shellWords(ex.command)
			var stdin string
			if words[0] == "printf" { // printf 'body' | curl ...
				require.Equal(t, "|", words[2])
				stdin = strings.ReplaceAll(words[1], `\n`, "\n")
				words = words[3:]
			}
			require.Equal(t, "curl", words[0])
			method, url, body := http.MethodGet, "", ""
			header := http.Header{}
			for i := 1; i < len(words); i++ {
				switch w := words[i]; w {
				case "-s":
				case "-H":
					i++
					k, v, _ := strings.Cut(words[i], ":")
					header.Set(k, strings.TrimSpace(v))
				case "-d", "--data-binary":
					i++
					method, body = http.MethodPost, words[i]
					if body == "@-" {
						body = stdin
					}
				default:
					require.True(t, strings.HasPrefix(w, "localhost:8080/"), "unexpected curl argument %q", w)
					url = base + strings.TrimPrefix(w, "localhost:8080")
				}
			}
			if method == http.MethodPost && header.Get("Content-Type") == "" {
				header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
			}
			req, err := http.NewRequest(method, url, strings.NewReader(body))
			require.NoError(t, err)
			req.Header = header
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, ex.output, string(got))
		})
	}
	cancel()
	require.NoError(t, <-done)
}
