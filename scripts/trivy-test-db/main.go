// Command trivy-test-db writes a small Trivy vulnerability DB (schema 2) for the integration tests.
//
// It reads a spec of advisories (JSON, see __fixtures__/trivy-db/advisories.json) and writes
// <cache-dir>/db/trivy.db and <cache-dir>/db/metadata.json the way trivy-db's own builders do:
// advisories in bucket "<platform>" -> source package -> vulnerability id (with FixedVersion), details in bucket
// "vulnerability", and the platform's data source in bucket "data-source". Trivy then finds these advisories in
// an image through its own matching (installed source version below the fixed one), nothing is planted in reports.
//
//	trivy-test-db --spec advisories.json --cache-dir DIR
//
// With --serve it also packs that DB the way Trivy publishes it (an OCI artifact with one
// application/vnd.aquasec.trivy.db.layer.v1.tar+gzip layer, db.tar.gz) and serves it from an in-process OCI
// registry (go-containerregistry's pkg/registry) on --listen, as <address>/aquasecurity/trivy-db:2, until it is
// stopped. It prints "serving <address>/aquasecurity/trivy-db:2" once the artifact is pushed. Trivy can then
// download the DB for real with --db-repository.
//
//	trivy-test-db --spec advisories.json --cache-dir DIR --serve --listen 127.0.0.1:0
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
	bolt "go.etcd.io/bbolt"
)

type advisorySpec struct {
	ID            string `json:"id"`
	SourcePackage string `json:"sourcePackage"`
	// Empty: no fix released (Trivy reports the status "affected").
	FixedVersion string `json:"fixedVersion"`
	Severity     string `json:"severity"`
	Title        string `json:"title"`
	Description  string `json:"description"`
}

type spec struct {
	Platform   string           `json:"platform"`
	DataSource types.DataSource `json:"dataSource"`
	Advisories []advisorySpec   `json:"advisories"`
}

func main() {
	specPath := flag.String("spec", "", "JSON spec of the advisories")
	cacheDir := flag.String("cache-dir", "", "Trivy cache directory; the DB goes to <cache-dir>/db")
	updatedAt := flag.String("updated-at", "", "RFC 3339 time for metadata UpdatedAt (default: now)")
	serve := flag.Bool("serve", false, "serve the DB from an OCI registry after writing it")
	listen := flag.String("listen", "127.0.0.1:0", "address of the OCI registry (with --serve)")
	flag.Parse()
	if *specPath == "" || *cacheDir == "" {
		fmt.Fprintln(os.Stderr, "usage: trivy-test-db --spec FILE --cache-dir DIR [--updated-at RFC3339]")
		os.Exit(2)
	}
	if err := run(*specPath, *cacheDir, *updatedAt); err != nil {
		fmt.Fprintf(os.Stderr, "trivy-test-db: %v\n", err)
		os.Exit(1)
	}
	if *serve {
		if err := serveDB(filepath.Join(*cacheDir, "db"), *listen); err != nil {
			fmt.Fprintf(os.Stderr, "trivy-test-db: %v\n", err)
			os.Exit(1)
		}
	}
}

func run(specPath, cacheDir, updatedAtText string) error {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var s spec
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	if s.Platform == "" || s.DataSource.ID == "" {
		return fmt.Errorf("%s: platform and dataSource.id are required", specPath)
	}

	updatedAt := time.Now().UTC().Truncate(time.Second)
	if updatedAtText != "" {
		if updatedAt, err = time.Parse(time.RFC3339, updatedAtText); err != nil {
			return fmt.Errorf("--updated-at: %w", err)
		}
	}

	dbDir := filepath.Join(cacheDir, "db")
	if err := os.RemoveAll(dbDir); err != nil {
		return err
	}
	if err := db.Init(dbDir); err != nil {
		return err
	}
	defer db.Close()

	dbc := db.Config{}
	err = dbc.BatchUpdate(func(tx *bolt.Tx) error {
		// Trivy reads this bucket for every detected vulnerability: it must exist.
		if _, err := tx.CreateBucketIfNotExists([]byte("vulnerability")); err != nil {
			return err
		}
		if err := dbc.PutDataSource(tx, s.Platform, s.DataSource); err != nil {
			return err
		}
		for _, a := range s.Advisories {
			severity, err := types.NewSeverity(a.Severity)
			if err != nil {
				return fmt.Errorf("%s: %w", a.ID, err)
			}
			advisory := types.Advisory{FixedVersion: a.FixedVersion}
			if a.FixedVersion == "" {
				advisory.Status = types.StatusAffected
			}
			if err := dbc.PutAdvisory(tx, []string{s.Platform, a.SourcePackage}, a.ID, &advisory); err != nil {
				return err
			}
			vuln := types.Vulnerability{
				Title:          a.Title,
				Description:    a.Description,
				Severity:       severity.String(),
				VendorSeverity: types.VendorSeverity{s.DataSource.ID: severity},
				References:     []string{fmt.Sprintf("https://security-tracker.debian.org/tracker/%s", a.ID)},
			}
			if err := dbc.PutVulnerability(tx, a.ID, vuln); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	return metadata.NewClient(dbDir).Update(metadata.Metadata{
		Version:      db.SchemaVersion,
		NextUpdate:   updatedAt.Add(24 * time.Hour),
		UpdatedAt:    updatedAt,
		DownloadedAt: updatedAt,
	})
}
