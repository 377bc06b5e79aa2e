{{/* The chart's name. */}}
{{- define "tollgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The fully qualified app name, 63 characters at most (DNS label). */}}
{{- define "tollgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tollgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tollgate.labels" -}}
helm.sh/chart: {{ include "tollgate.chart" . }}
{{ include "tollgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "tollgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tollgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tollgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* postgres reports "true" in postgres mode. */}}
{{- define "tollgate.postgres" -}}
{{- if eq .Values.database.mode "postgres" }}true{{ end }}
{{- end }}

{{/* The Secret and key holding the key file; empty when there is none. */}}
{{- define "tollgate.keySecretName" -}}
{{- if .Values.keyFile.existingSecret }}
{{- .Values.keyFile.existingSecret }}
{{- else if .Values.keyFile.value }}
{{- include "tollgate.fullname" . }}
{{- end }}
{{- end }}

{{- define "tollgate.keySecretKey" -}}
{{- if .Values.keyFile.existingSecret }}
{{- .Values.keyFile.key }}
{{- else }}tollgate.key{{ end }}
{{- end }}

{{/* chartSecret reports "true" when the chart creates its own Secret. */}}
{{- define "tollgate.chartSecret" -}}
{{- if or (and (not .Values.keyFile.existingSecret) .Values.keyFile.value) (and (include "tollgate.postgres" .) (not .Values.database.postgres.existingSecret) .Values.database.postgres.url) (and (not .Values.bootstrap.existingSecret) .Values.bootstrap.password) }}true{{ end }}
{{- end }}

{{/* The issuer: the value, else the first Ingress host, else the Service. */}}
{{- define "tollgate.issuer" -}}
{{- if .Values.issuer }}
{{- .Values.issuer | trimSuffix "/" }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $host := (first .Values.ingress.hosts).host }}
{{- printf "%s://%s" (ternary "https" "http" (not (empty .Values.ingress.tls))) $host }}
{{- else }}
{{- printf "%s://%s.%s.svc:8080" (ternary "https" "http" (not (empty .Values.tls.existingSecret))) (include "tollgate.fullname" .) .Release.Namespace }}
{{- end }}
{{- end }}

{{/* The probes' scheme. */}}
{{- define "tollgate.scheme" -}}
{{- if .Values.tls.existingSecret }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/*
validate fails the render on values that would make a broken release. The
schema checks types; these are the rules across values.
*/}}
{{- define "tollgate.validate" -}}
{{- $mode := .Values.database.mode }}
{{- if and (eq $mode "sqlite") (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "database.mode=sqlite runs exactly one replica (the database is one file on one volume), but replicaCount is %d: set replicaCount=1, or use database.mode=postgres for several replicas" (int .Values.replicaCount)) }}
{{- end }}
{{- if eq $mode "postgres" }}
{{- if not (or .Values.database.postgres.existingSecret .Values.database.postgres.url) }}
{{- fail "database.mode=postgres needs database.postgres.existingSecret (a Secret with the postgres:// URL) or database.postgres.url" }}
{{- end }}
{{- if not (or .Values.keyFile.existingSecret .Values.keyFile.value) }}
{{- fail "database.mode=postgres needs keyFile.existingSecret (recommended) or keyFile.value: every replica must use the same key file, so the chart cannot generate one" }}
{{- end }}
{{- if .Values.persistence.existingClaim }}
{{- fail "persistence.existingClaim is for database.mode=sqlite; PostgreSQL replicas keep no local state" }}
{{- end }}
{{- end }}
{{- if and .Values.database.postgres.url (not (hasPrefix "postgres://" .Values.database.postgres.url)) (not (hasPrefix "postgresql://" .Values.database.postgres.url)) }}
{{- fail "database.postgres.url must be a postgres:// URL" }}
{{- end }}
{{- if and (not .Values.keyFile.existingSecret) .Values.keyFile.value (lt (len .Values.keyFile.value) 32) }}
{{- fail "keyFile.value must be at least 32 characters of random data (head -c 32 /dev/urandom | xxd -p -c 64)" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "serviceMonitor.enabled needs metrics.enabled: the ServiceMonitor scrapes the metrics port" }}
{{- end }}
{{- if and .Values.metrics.pprof (not .Values.metrics.enabled) }}
{{- fail "metrics.pprof needs metrics.enabled: pprof is served on the metrics port only" }}
{{- end }}
{{- if and .Values.issuer (not (or (hasPrefix "http://" .Values.issuer) (hasPrefix "https://" .Values.issuer))) }}
{{- fail "issuer must be an http:// or https:// URL" }}
{{- end }}
{{- end }}
