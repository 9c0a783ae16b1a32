{{/* Chart name. */}}
{{- define "keywarden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name (<release>-keywarden unless the release name already contains it). */}}
{{- define "keywarden.fullname" -}}
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

{{- define "keywarden.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "keywarden.selectorLabels" -}}
app.kubernetes.io/name: {{ include "keywarden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "keywarden.labels" -}}
helm.sh/chart: {{ include "keywarden.chart" . }}
{{ include "keywarden.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: api
app.kubernetes.io/part-of: keywarden
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "keywarden.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "keywarden.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference: digest wins over tag; tag defaults to appVersion. */}}
{{- define "keywarden.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Redis env entries, or nothing. REDIS_URL selects the redis store in keywarden; the
password (when separate from the URL) goes to KEYWARDEN_STORE__REDIS__PASSWORD, the
app's env name for store.redis.password. Only KEYWARDEN_* names the app's config schema
knows may be set: the loader maps every KEYWARDEN_* variable onto a config key.
*/}}
{{- define "keywarden.redisEnv" -}}
{{- $ext := .Values.externalRedis }}
{{- if and $ext.existingSecret $ext.existingSecretKey }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $ext.existingSecret | quote }}
      key: {{ $ext.existingSecretKey | quote }}
{{- else if $ext.url }}
- name: REDIS_URL
  value: {{ $ext.url | quote }}
{{- end }}
{{- if and $ext.existingSecret $ext.existingSecretPasswordKey }}
- name: KEYWARDEN_STORE__REDIS__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $ext.existingSecret | quote }}
      key: {{ $ext.existingSecretPasswordKey | quote }}
{{- end }}
{{- end }}

{{/* Effective app shutdown grace in ms (config.server.shutdownGraceMs, default 10000). */}}
{{- define "keywarden.shutdownGraceMs" -}}
{{- dig "server" "shutdownGraceMs" 10000 .Values.config | int }}
{{- end }}
