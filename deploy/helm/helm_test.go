// Package helm tests the Tollgate chart in tollgate/ with Helm's own
// libraries: the linter (helm lint), and the engine with the chart's schema
// (helm template), decoding what it renders into Kubernetes API types.
package helm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "tollgate"

// release is the name and namespace every render uses.
const (
	releaseName = "tg"
	namespace   = "auth"
	fullname    = "tg-tollgate"
)

// manifests are the objects of one render, by kind and name.
type manifests struct {
	objects map[string][]byte // "Kind/name" → the object as JSON
	notes   string
}

// values reads a YAML text of values.
func values(t *testing.T, text string) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValues([]byte(text))
	if err != nil {
		t.Fatalf("values %q: %v", text, err)
	}
	return v.AsMap()
}

// render runs what "helm template" does: it loads the chart, checks the
// values against values.schema.json, renders the templates in strict mode
// and splits them into objects.
func render(vals map[string]any) (*manifests, error) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		return nil, err
	}
	opts := chartutil.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(ch, vals, opts, chartutil.DefaultCapabilities.Copy())
	if err != nil {
		return nil, err
	}
	files, err := (engine.Engine{Strict: true}).Render(ch, rv)
	if err != nil {
		return nil, err
	}
	m := &manifests{objects: map[string][]byte{}}
	for name, text := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			m.notes = text
			continue
		}
		for _, doc := range strings.Split(text, "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			j, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				return nil, fmt.Errorf("%s: %v\n%s", name, err, doc)
			}
			if string(j) == "null" {
				continue // only comments
			}
			var meta struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(j, &meta); err != nil || meta.Kind == "" || meta.Metadata.Name == "" {
				return nil, fmt.Errorf("%s: an object without kind or name: %s", name, j)
			}
			key := meta.Kind + "/" + meta.Metadata.Name
			if _, dup := m.objects[key]; dup {
				return nil, fmt.Errorf("%s rendered twice", key)
			}
			m.objects[key] = j
		}
	}
	return m, nil
}

// mustRender renders and fails the test on an error.
func mustRender(t *testing.T, text string) *manifests {
	t.Helper()
	m, err := render(values(t, text))
	if err != nil {
		t.Fatalf("render with %q: %v", text, err)
	}
	return m
}

// has reports whether the render holds the object.
func (m *manifests) has(kind, name string) bool {
	_, ok := m.objects[kind+"/"+name]
	return ok
}

// decode decodes an object into out, refusing fields that out's type does
// not have (a misspelt field in a template fails here, as the API server
// would refuse it).
func (m *manifests) decode(t *testing.T, kind, name string, out any) {
	t.Helper()
	j, ok := m.objects[kind+"/"+name]
	if !ok {
		t.Fatalf("no %s/%s in %v", kind, name, m.kinds())
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("%s/%s: %v\n%s", kind, name, err, j)
	}
}

func (m *manifests) kinds() []string {
	var ks []string
	for k := range m.objects {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (m *manifests) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	m.decode(t, "Deployment", fullname, &d)
	if got := len(d.Spec.Template.Spec.Containers); got != 1 {
		t.Fatalf("%d containers, want 1", got)
	}
	return &d
}

// env returns the container's variables by name.
func env(d *appsv1.Deployment) map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		out[e.Name] = e
	}
	return out
}

func volume(d *appsv1.Deployment, name string) *corev1.Volume {
	for i, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return &d.Spec.Template.Spec.Volumes[i]
		}
	}
	return nil
}

func mount(d *appsv1.Deployment, name string) *corev1.VolumeMount {
	for i, v := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if v.Name == name {
			return &d.Spec.Template.Spec.Containers[0].VolumeMounts[i]
		}
	}
	return nil
}

// postgresValues run 3 replicas on PostgreSQL with the URL and the key
// file in Secrets made outside the chart.
const postgresValues = `
replicaCount: 3
database:
  mode: postgres
  postgres:
    existingSecret: tollgate-db
    key: dsn
keyFile:
  existingSecret: tollgate-key
  key: master.key
issuer: https://auth.example.com
`

// everythingValues turn every optional part on.
const everythingValues = postgresValues + `
ingress:
  enabled: true
  className: nginx
  hosts:
    - host: auth.example.com
      paths: [{path: /, pathType: Prefix}]
  tls:
    - secretName: auth-example-tls
      hosts: [auth.example.com]
tls:
  existingSecret: tollgate-tls
serviceMonitor:
  enabled: true
  labels: {release: prometheus}
networkPolicy:
  enabled: true
  ingressFrom:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: ingress-nginx
  postgres:
    port: 6432
    to:
      - ipBlock: {cidr: 10.20.0.0/16}
bootstrap:
  org: example
  email: root@example.com
  existingSecret: tollgate-bootstrap
metrics:
  enabled: true
  pprof: true
trustedProxies: [10.0.0.0/8, "fd00::/8"]
extraEnv:
  - name: TOLLGATE_KEY_ROTATION
    value: 720h
podAnnotations: {example.com/team: identity}
nodeSelector: {kubernetes.io/os: linux}
tolerations:
  - {key: dedicated, operator: Equal, value: auth, effect: NoSchedule}
`

// TestLint runs helm lint's rules on the chart with the default values and
// with the others the tests use, and fails on any error.
func TestLint(t *testing.T) {
	for name, text := range map[string]string{"defaults": "", "postgres": postgresValues, "everything": everythingValues} {
		t.Run(name, func(t *testing.T) {
			l := lint.All(chartDir, values(t, text), namespace, true)
			for _, msg := range l.Messages {
				if msg.Severity >= support.ErrorSev {
					t.Errorf("lint: %s", msg)
				} else {
					t.Logf("lint: %s", msg)
				}
			}
		})
	}
	// The linter does see broken values: this is what the runs above
	// would have reported.
	l := lint.All(chartDir, values(t, `replicaCount: three`), namespace, true)
	if l.HighestSeverity < support.ErrorSev {
		t.Fatalf("lint accepted replicaCount: three: %v", l.Messages)
	}
}

// TestSQLiteDefaults checks the default install: one replica on SQLite
// with its volume, the probes and the hardening.
func TestSQLiteDefaults(t *testing.T) {
	m := mustRender(t, "")
	d := m.deployment(t)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1", d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q, want Recreate: two pods must never open the SQLite file at once", d.Spec.Strategy.Type)
	}
	e := env(d)
	for name, want := range map[string]string{
		"TOLLGATE_DB":         "/var/lib/tollgate/tollgate.db",
		"TOLLGATE_ADDR":       ":8080",
		"TOLLGATE_ADMIN_ADDR": "0.0.0.0:9090",
		"TOLLGATE_ISSUER":     "http://tg-tollgate.auth.svc:8080",
		"TOLLGATE_LOG_FORMAT": "json",
	} {
		if got := e[name]; got.Value != want || got.ValueFrom != nil {
			t.Errorf("%s = %+v, want %q", name, got, want)
		}
	}
	for _, name := range []string{"TOLLGATE_KEY_FILE", "TOLLGATE_PPROF", "TOLLGATE_TLS_CERT", "TOLLGATE_BOOTSTRAP_PASSWORD"} {
		if v, ok := e[name]; ok {
			t.Errorf("%s is set (%+v) by default", name, v)
		}
	}
	// The data volume is the chart's claim, kept on uninstall.
	data := volume(d, "data")
	if data == nil || data.PersistentVolumeClaim == nil || data.PersistentVolumeClaim.ClaimName != fullname+"-data" {
		t.Fatalf("data volume %+v", data)
	}
	if mt := mount(d, "data"); mt == nil || mt.MountPath != "/var/lib/tollgate" || mt.ReadOnly {
		t.Errorf("data mount %+v", mt)
	}
	var pvc corev1.PersistentVolumeClaim
	m.decode(t, "PersistentVolumeClaim", fullname+"-data", &pvc)
	if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.String() != "1Gi" {
		t.Errorf("claim size %s", got.String())
	}
	if pvc.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Errorf("claim annotations %v: the database would be deleted with the release", pvc.Annotations)
	}
	if pvc.Spec.StorageClassName != nil {
		t.Errorf("storageClassName %q set without persistence.storageClass", *pvc.Spec.StorageClassName)
	}
	// No key Secret: Tollgate keeps the key beside the database.
	if volume(d, "key") != nil || m.has("Secret", fullname) {
		t.Errorf("a key volume or Secret by default: %v", m.kinds())
	}
	checkProbes(t, d, corev1.URISchemeHTTP)
	checkHardening(t, d)

	var svc corev1.Service
	m.decode(t, "Service", fullname, &svc)
	ports := map[string]int32{}
	for _, p := range svc.Spec.Ports {
		ports[p.Name] = p.Port
	}
	if fmt.Sprint(ports) != "map[http:8080 metrics:9090]" {
		t.Errorf("service ports %v", ports)
	}
	var sa corev1.ServiceAccount
	m.decode(t, "ServiceAccount", fullname, &sa)
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("the ServiceAccount mounts its token")
	}
	if got := d.Spec.Template.Spec.ServiceAccountName; got != fullname {
		t.Errorf("serviceAccountName %q", got)
	}
	for _, kind := range []string{"ServiceMonitor", "NetworkPolicy", "PodDisruptionBudget", "Ingress"} {
		if m.has(kind, fullname) {
			t.Errorf("%s rendered by default", kind)
		}
	}
	if d.Spec.Template.Spec.TerminationGracePeriodSeconds == nil || *d.Spec.Template.Spec.TerminationGracePeriodSeconds <= 35 {
		t.Errorf("terminationGracePeriodSeconds %v is not above the 5s drain and 30s shutdown", d.Spec.Template.Spec.TerminationGracePeriodSeconds)
	}
	if !strings.Contains(m.notes, "First start") || !strings.Contains(m.notes, "WARNING: no keyFile.existingSecret") {
		t.Errorf("NOTES.txt does not say where the password and the key file are:\n%s", m.notes)
	}
}

func checkProbes(t *testing.T, d *appsv1.Deployment, scheme corev1.URIScheme) {
	t.Helper()
	c := d.Spec.Template.Spec.Containers[0]
	for name, want := range map[string]struct {
		p    *corev1.Probe
		path string
	}{"startup": {c.StartupProbe, "/healthz"}, "liveness": {c.LivenessProbe, "/healthz"}, "readiness": {c.ReadinessProbe, "/readyz"}} {
		if want.p == nil || want.p.HTTPGet == nil {
			t.Errorf("no %s probe", name)
			continue
		}
		if g := want.p.HTTPGet; g.Path != want.path || g.Port.String() != "http" || g.Scheme != scheme {
			t.Errorf("%s probe %+v, want %s %s on port http", name, g, scheme, want.path)
		}
	}
	// Readiness must notice the 5s drain before it ends.
	if r := c.ReadinessProbe; r != nil && r.PeriodSeconds*r.FailureThreshold >= 5 {
		t.Errorf("readiness notices a drain after %ds, not within the 5s drain", r.PeriodSeconds*r.FailureThreshold)
	}
}

func checkHardening(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	ps := d.Spec.Template.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser != 65532 ||
		ps.FSGroup == nil || *ps.FSGroup != 65532 || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v", ps)
	}
	cs := d.Spec.Template.Spec.Containers[0].SecurityContext
	if cs == nil || cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem ||
		cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation ||
		cs.RunAsNonRoot == nil || !*cs.RunAsNonRoot ||
		cs.Capabilities == nil || fmt.Sprint(cs.Capabilities.Drop) != "[ALL]" || len(cs.Capabilities.Add) != 0 ||
		cs.SeccompProfile == nil || cs.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container securityContext %+v", cs)
	}
	if a := d.Spec.Template.Spec.AutomountServiceAccountToken; a == nil || *a {
		t.Error("the pod mounts a service account token")
	}
	// A read-only root needs a writable /tmp.
	if tmp := volume(d, "tmp"); tmp == nil || tmp.EmptyDir == nil || mount(d, "tmp") == nil || mount(d, "tmp").MountPath != "/tmp" {
		t.Errorf("no emptyDir at /tmp")
	}
	if d.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().IsZero() {
		t.Error("no memory limit")
	}
}

// TestSQLiteRefusesReplicas: SQLite is one file, so more than one replica
// is refused at render time, with a message that says what to do.
func TestSQLiteRefusesReplicas(t *testing.T) {
	for _, text := range []string{"replicaCount: 2", "replicaCount: 2\ndatabase: {mode: sqlite}"} {
		_, err := render(values(t, text))
		if err == nil || !strings.Contains(err.Error(), "database.mode=sqlite runs exactly one replica") ||
			!strings.Contains(err.Error(), "replicaCount is 2") || !strings.Contains(err.Error(), "database.mode=postgres") {
			t.Errorf("%q: %v", text, err)
		}
	}
}

// TestSQLiteKeyFromSecret: with keyFile.existingSecret the key file is
// that Secret, read-only, mode 0400.
func TestSQLiteKeyFromSecret(t *testing.T) {
	m := mustRender(t, "keyFile: {existingSecret: my-key}\npersistence: {existingClaim: my-claim, storageClass: fast}")
	d := m.deployment(t)
	checkKeyVolume(t, d, "my-key", "tollgate.key")
	if v := volume(d, "data"); v == nil || v.PersistentVolumeClaim.ClaimName != "my-claim" {
		t.Errorf("data volume %+v, want the existing claim", v)
	}
	if m.has("PersistentVolumeClaim", fullname+"-data") || m.has("Secret", fullname) {
		t.Errorf("the chart made a claim or a Secret beside existing ones: %v", m.kinds())
	}
	if strings.Contains(m.notes, "WARNING") {
		t.Errorf("NOTES.txt warns about the key file although it is a Secret:\n%s", m.notes)
	}
}

func checkKeyVolume(t *testing.T, d *appsv1.Deployment, secret, key string) {
	t.Helper()
	v := volume(d, "key")
	if v == nil || v.Secret == nil {
		t.Fatalf("no key Secret volume")
	}
	if v.Secret.SecretName != secret || v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o400 ||
		len(v.Secret.Items) != 1 || v.Secret.Items[0].Key != key || v.Secret.Items[0].Path != "tollgate.key" {
		t.Errorf("key volume %+v (defaultMode %v), want %s/%s as tollgate.key, mode 0400", v.Secret, v.Secret.DefaultMode, secret, key)
	}
	if mt := mount(d, "key"); mt == nil || !mt.ReadOnly || mt.MountPath != "/etc/tollgate/key" {
		t.Errorf("key mount %+v", mt)
	}
	if got := env(d)["TOLLGATE_KEY_FILE"].Value; got != "/etc/tollgate/key/tollgate.key" {
		t.Errorf("TOLLGATE_KEY_FILE %q", got)
	}
}

// TestPostgresReplicas: three replicas whose database URL and key file
// come from existing Secrets; the URL appears nowhere in the Deployment.
func TestPostgresReplicas(t *testing.T) {
	m := mustRender(t, postgresValues)
	d := m.deployment(t)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("strategy %q", d.Spec.Strategy.Type)
	}
	db := env(d)["TOLLGATE_DB"]
	if db.Value != "" || db.ValueFrom == nil || db.ValueFrom.SecretKeyRef == nil ||
		db.ValueFrom.SecretKeyRef.Name != "tollgate-db" || db.ValueFrom.SecretKeyRef.Key != "dsn" {
		t.Errorf("TOLLGATE_DB %+v, want from Secret tollgate-db key dsn", db)
	}
	if got := env(d)["TOLLGATE_ISSUER"].Value; got != "https://auth.example.com" {
		t.Errorf("issuer %q", got)
	}
	checkKeyVolume(t, d, "tollgate-key", "master.key")
	if volume(d, "data") != nil || m.has("PersistentVolumeClaim", fullname+"-data") {
		t.Error("a data volume in postgres mode")
	}
	if m.has("Secret", fullname) {
		t.Error("the chart made a Secret although every secret value comes from an existing one")
	}
	if j := m.objects["Deployment/"+fullname]; bytes.Contains(j, []byte("postgres://")) {
		t.Errorf("a database URL in the Deployment: %s", j)
	}
	var pdb policyv1.PodDisruptionBudget
	m.decode(t, "PodDisruptionBudget", fullname, &pdb)
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.Selector.MatchLabels["app.kubernetes.io/instance"] != releaseName {
		t.Errorf("pdb %+v", pdb.Spec)
	}
	checkProbes(t, d, corev1.URISchemeHTTP)
	checkHardening(t, d)
}

// TestPostgresChartSecret: database.postgres.url and keyFile.value make
// the chart's Secret, which the Deployment references; neither value is in
// the Deployment.
func TestPostgresChartSecret(t *testing.T) {
	const url = "postgres://tollgate:s3cret@db.example.com:5432/tollgate?sslmode=verify-full"
	key := strings.Repeat("0123456789abcdef", 4)
	m := mustRender(t, fmt.Sprintf("replicaCount: 2\ndatabase: {mode: postgres, postgres: {url: %q}}\nkeyFile: {value: %q}\nbootstrap: {password: hunter2-hunter2}", url, key))
	var s corev1.Secret
	m.decode(t, "Secret", fullname, &s)
	if string(s.Data["database-url"]) != url || string(s.Data["tollgate.key"]) != key || string(s.Data["bootstrap-password"]) != "hunter2-hunter2" {
		t.Errorf("secret data %q", s.Data)
	}
	d := m.deployment(t)
	if ref := env(d)["TOLLGATE_DB"].ValueFrom; ref == nil || ref.SecretKeyRef.Name != fullname || ref.SecretKeyRef.Key != "database-url" {
		t.Errorf("TOLLGATE_DB %+v", env(d)["TOLLGATE_DB"])
	}
	if ref := env(d)["TOLLGATE_BOOTSTRAP_PASSWORD"].ValueFrom; ref == nil || ref.SecretKeyRef.Name != fullname || ref.SecretKeyRef.Key != "bootstrap-password" {
		t.Errorf("TOLLGATE_BOOTSTRAP_PASSWORD %+v", env(d)["TOLLGATE_BOOTSTRAP_PASSWORD"])
	}
	checkKeyVolume(t, d, fullname, "tollgate.key")
	j := m.objects["Deployment/"+fullname]
	for _, secret := range []string{url, "s3cret", key, "hunter2"} {
		if bytes.Contains(j, []byte(secret)) {
			t.Errorf("%q in the Deployment", secret)
		}
	}
	// A changed Secret rolls the pods, which read it only at start.
	if d.Spec.Template.Annotations["checksum/secret"] == "" {
		t.Error("no checksum/secret annotation")
	}
	if !strings.Contains(m.notes, "2 replica(s) on PostgreSQL") || strings.Contains(m.notes, "First start") {
		t.Errorf("NOTES.txt:\n%s", m.notes)
	}
}

// TestRefusedCombinations are values that pass the schema but would make a
// broken release; each fails with a message naming the fix.
func TestRefusedCombinations(t *testing.T) {
	for _, tc := range []struct{ values, want string }{
		{"database: {mode: postgres}\nkeyFile: {existingSecret: k}", "database.mode=postgres needs database.postgres.existingSecret"},
		{"database: {mode: postgres, postgres: {existingSecret: db}}", "needs keyFile.existingSecret (recommended) or keyFile.value"},
		{"database: {mode: postgres, postgres: {existingSecret: db}}\nkeyFile: {existingSecret: k}\npersistence: {existingClaim: c}", "persistence.existingClaim is for database.mode=sqlite"},
		{"keyFile: {value: short}", "keyFile.value must be at least 32 characters"},
		{"serviceMonitor: {enabled: true}\nmetrics: {enabled: false}", "serviceMonitor.enabled needs metrics.enabled"},
		{"metrics: {enabled: false, pprof: true}", "metrics.pprof needs metrics.enabled"},
	} {
		_, err := render(values(t, tc.values))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.values, err, tc.want)
		}
	}
}

// TestSchemaRejects: values.schema.json refuses values of the wrong type
// or outside their set, before any template runs.
func TestSchemaRejects(t *testing.T) {
	for _, text := range []string{
		`replicaCount: three`,
		`replicaCount: 0`,
		`database: {mode: mysql}`,
		`image: {pullPolicy: Sometimes}`,
		`replicas: 3`, // a misspelt key
		`logFormat: xml`,
		`issuer: ftp://auth.example.com`,
		`persistence: {size: lots}`,
		`database: {postgres: {url: "mysql://db"}}`,
		`extraEnv: [{name: "NOT A NAME", value: x}]`,
		`metrics: {enabled: "yes"}`,
		`networkPolicy: {postgres: {port: 70000}}`,
		`shutdownDrain: soon`,
		`trustedProxies: 10.0.0.0/8`,
	} {
		_, err := render(values(t, text))
		if err == nil || !strings.Contains(err.Error(), "values don't meet the specifications of the schema") {
			t.Errorf("%q: %v, want a schema error", text, err)
		}
	}
}

// TestOptional renders every optional part and checks each one's shape.
func TestOptional(t *testing.T) {
	m := mustRender(t, everythingValues)
	d := m.deployment(t)
	e := env(d)
	for name, want := range map[string]string{
		"TOLLGATE_TLS_CERT":        "/etc/tollgate/tls/tls.crt",
		"TOLLGATE_TLS_KEY":         "/etc/tollgate/tls/tls.key",
		"TOLLGATE_PPROF":           "true",
		"TOLLGATE_TRUSTED_PROXIES": "10.0.0.0/8,fd00::/8",
		"TOLLGATE_BOOTSTRAP_ORG":   "example",
		"TOLLGATE_BOOTSTRAP_EMAIL": "root@example.com",
		"TOLLGATE_KEY_ROTATION":    "720h",
	} {
		if e[name].Value != want {
			t.Errorf("%s = %q, want %q", name, e[name].Value, want)
		}
	}
	if ref := e["TOLLGATE_BOOTSTRAP_PASSWORD"].ValueFrom; ref == nil || ref.SecretKeyRef.Name != "tollgate-bootstrap" || ref.SecretKeyRef.Key != "password" {
		t.Errorf("bootstrap password %+v", e["TOLLGATE_BOOTSTRAP_PASSWORD"])
	}
	if v := volume(d, "tls"); v == nil || v.Secret == nil || v.Secret.SecretName != "tollgate-tls" || *v.Secret.DefaultMode != 0o400 {
		t.Errorf("tls volume %+v", v)
	}
	if mt := mount(d, "tls"); mt == nil || !mt.ReadOnly || mt.MountPath != "/etc/tollgate/tls" {
		t.Errorf("tls mount %+v", mt)
	}
	checkProbes(t, d, corev1.URISchemeHTTPS)
	checkHardening(t, d)
	ps := d.Spec.Template.Spec
	if ps.NodeSelector["kubernetes.io/os"] != "linux" || len(ps.Tolerations) != 1 || ps.Tolerations[0].Value != "auth" ||
		d.Spec.Template.Annotations["example.com/team"] != "identity" {
		t.Errorf("scheduling %v %v, annotations %v", ps.NodeSelector, ps.Tolerations, d.Spec.Template.Annotations)
	}

	var ing networkingv1.Ingress
	m.decode(t, "Ingress", fullname, &ing)
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "auth-example-tls" || ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" ||
		len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "auth.example.com" ||
		ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != fullname || ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Name != "http" {
		t.Errorf("ingress %+v", ing.Spec)
	}

	var sm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Selector          map[string]map[string]string `json:"selector"`
			NamespaceSelector map[string][]string          `json:"namespaceSelector"`
			Endpoints         []map[string]string          `json:"endpoints"`
		} `json:"spec"`
		Metadata struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	m.decode(t, "ServiceMonitor", fullname, &sm)
	if sm.APIVersion != "monitoring.coreos.com/v1" || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0]["port"] != "metrics" ||
		sm.Spec.Endpoints[0]["path"] != "/metrics" || sm.Spec.Selector["matchLabels"]["app.kubernetes.io/instance"] != releaseName || sm.Metadata.Labels["release"] != "prometheus" ||
		fmt.Sprint(sm.Spec.NamespaceSelector["matchNames"]) != "[auth]" {
		t.Errorf("service monitor %+v", sm)
	}

	var np networkingv1.NetworkPolicy
	m.decode(t, "NetworkPolicy", fullname, &np)
	if fmt.Sprint(np.Spec.PolicyTypes) != "[Ingress Egress]" || np.Spec.PodSelector.MatchLabels["app.kubernetes.io/instance"] != releaseName {
		t.Errorf("policy %+v", np.Spec)
	}
	if len(np.Spec.Ingress) != 2 {
		t.Fatalf("ingress rules %+v", np.Spec.Ingress)
	}
	http, metrics := np.Spec.Ingress[0], np.Spec.Ingress[1]
	if http.Ports[0].Port.String() != "http" || len(http.From) != 1 || http.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "ingress-nginx" {
		t.Errorf("http rule %+v", http)
	}
	if metrics.Ports[0].Port.String() != "metrics" || len(metrics.From) != 1 || metrics.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" {
		t.Errorf("metrics rule %+v", metrics)
	}
	egress := map[string]networkingv1.NetworkPolicyEgressRule{}
	for _, r := range np.Spec.Egress {
		egress[r.Ports[0].Port.String()] = r
	}
	if dns, ok := egress["53"]; !ok || len(dns.Ports) != 2 || dns.To[0].PodSelector.MatchLabels["k8s-app"] != "kube-dns" {
		t.Errorf("dns rule %+v", dns)
	}
	if pg, ok := egress["6432"]; !ok || len(pg.To) != 1 || pg.To[0].IPBlock.CIDR != "10.20.0.0/16" {
		t.Errorf("postgres rule %+v", pg)
	}
	if len(egress) != 2 {
		t.Errorf("egress %+v", np.Spec.Egress)
	}
}

// TestMetricsDisabled: no metrics port anywhere, and the operators'
// listener binds loopback, so /metrics stays off the public port.
func TestMetricsDisabled(t *testing.T) {
	m := mustRender(t, "metrics: {enabled: false}\nnetworkPolicy: {enabled: true}")
	d := m.deployment(t)
	if got := env(d)["TOLLGATE_ADMIN_ADDR"].Value; got != "127.0.0.1:9090" {
		t.Errorf("TOLLGATE_ADMIN_ADDR %q", got)
	}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		if p.Name == "metrics" {
			t.Error("a metrics container port")
		}
	}
	var svc corev1.Service
	m.decode(t, "Service", fullname, &svc)
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" {
		t.Errorf("service ports %+v", svc.Spec.Ports)
	}
	var np networkingv1.NetworkPolicy
	m.decode(t, "NetworkPolicy", fullname, &np)
	// sqlite: one ingress rule (http, from anywhere), and DNS the only egress.
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 0 || len(np.Spec.Egress) != 1 {
		t.Errorf("policy %+v", np.Spec)
	}
}

// TestIssuerFromIngress: without issuer, the first Ingress host is the
// issuer, https when the Ingress has TLS.
func TestIssuerFromIngress(t *testing.T) {
	for text, want := range map[string]string{
		"ingress: {enabled: true, hosts: [{host: a.example.com, paths: [{path: /, pathType: Prefix}]}]}":                                                 "http://a.example.com",
		"ingress: {enabled: true, hosts: [{host: a.example.com, paths: [{path: /, pathType: Prefix}]}], tls: [{secretName: s, hosts: [a.example.com]}]}": "https://a.example.com",
		"tls: {existingSecret: t}":        "https://tg-tollgate.auth.svc:8080",
		"issuer: https://id.example.com/": "https://id.example.com",
	} {
		if got := env(mustRender(t, text).deployment(t))["TOLLGATE_ISSUER"].Value; got != want {
			t.Errorf("%s: issuer %q, want %q", text, got, want)
		}
	}
}
