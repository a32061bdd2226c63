// Command ceiling is the benchmark's ceiling: a bare net/http server that decodes the same
// request bodies as the inference server (JSON {"instances": [[...]]} with encoding/json,
// CSV with encoding/csv and strconv) and answers a constant, predicting nothing. What the
// inference server reaches relative to it is the cost of everything it adds. bench/run starts
// it; see bench/RESULTS.md.
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func main() {
	host := flag.String("host", "127.0.0.1", "interface address to listen on")
	port := flag.Int("port", 8082, "port to listen on")
	flag.Parse()
	srv := &http.Server{
		Addr:              net.JoinHostPort(*host, strconv.Itoa(*port)),
		Handler:           newHandler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}

// newHandler serves GET /ping and POST /invocations.
func newHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"UP"}`)
	})
	mux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) {
		rows, err := decode(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			w.Header().Set("Content-Type", "text/csv")
			_, _ = io.WriteString(w, strings.Repeat("0.5\n", rows))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"predictions":[`+strings.TrimSuffix(strings.Repeat("0.5,", rows), ",")+`]}`)
	})
	return mux
}

// decode reads the body's rows and returns how many there are.
func decode(r *http.Request) (int, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		records, err := csv.NewReader(r.Body).ReadAll()
		if err != nil {
			return 0, err
		}
		for i, rec := range records {
			for j, f := range rec {
				if f == "" {
					continue // missing
				}
				if _, err := strconv.ParseFloat(f, 64); err != nil {
					return 0, fmt.Errorf("line %d, column %d: %w", i+1, j+1, err)
				}
			}
		}
		return len(records), nil
	}
	var body struct {
		Instances [][]*float64 `json:"instances"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return 0, err
	}
	if len(body.Instances) == 0 {
		return 0, errors.New("instances is empty")
	}
	return len(body.Instances), nil
}
