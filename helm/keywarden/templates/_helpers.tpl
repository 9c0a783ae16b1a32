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

{{/* Name of the bundled redis subchart's master Service (bitnami naming). */}}
{{- define "keywarden.redisFullname" -}}
{{- if contains "redis" .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-redis" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* REDIS_URL (and helper vars) env entries, or nothing. */}}
{{- define "keywarden.redisEnv" -}}
{{- if .Values.externalRedis.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.externalRedis.existingSecret | quote }}
      key: {{ .Values.externalRedis.existingSecretKey | quote }}
{{- else if .Values.externalRedis.url }}
- name: REDIS_URL
  value: {{ .Values.externalRedis.url | quote }}
{{- else if .Values.redis.enabled }}
{{- $host := printf "%s-master" (include "keywarden.redisFullname" .) }}
{{- if .Values.redis.auth.enabled }}
- name: KEYWARDEN_BUNDLED_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "keywarden.redisFullname" . | quote }}
      key: redis-password
- name: REDIS_URL
  value: {{ printf "redis://:$(KEYWARDEN_BUNDLED_REDIS_PASSWORD)@%s:6379" $host | quote }}
{{- else }}
- name: REDIS_URL
  value: {{ printf "redis://%s:6379" $host | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Effective app shutdown grace in ms (config.server.shutdownGraceMs, default 10000). */}}
{{- define "keywarden.shutdownGraceMs" -}}
{{- dig "server" "shutdownGraceMs" 10000 .Values.config | int }}
{{- end }}
