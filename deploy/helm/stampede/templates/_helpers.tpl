{{/* The chart name: the app.kubernetes.io/name label and selector value. */}}
{{- define "stampede.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The object name prefix: `stampede` for release `stampede`, as in the Kustomize base. */}}
{{- define "stampede.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "stampede.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Selector labels of one component: the same two keys as the Kustomize base, so a Kustomize install
can be adopted (selectors are immutable). One release per namespace.
Usage: include "stampede.selectorLabels" (list . "worker")
*/}}
{{- define "stampede.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "stampede.name" $root }}
{{- with index . 1 }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/* Object labels: the selector labels plus Helm's. Usage: include "stampede.labels" (list . "worker"), or (list . "") for none. */}}
{{- define "stampede.labels" -}}
{{- $root := index . 0 -}}
{{ include "stampede.selectorLabels" . }}
app.kubernetes.io/part-of: stampede
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* An image reference; the tag defaults to the chart's appVersion. Usage: include "stampede.image" (list . .Values.worker.image) */}}
{{- define "stampede.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) -}}
{{- end -}}

{{/* The Redis name of the in-cluster Redis (Service, StatefulSet). */}}
{{- define "stampede.redisName" -}}
{{- printf "%s-redis" (include "stampede.fullname" .) -}}
{{- end -}}

{{/*
The Redis variables every Redis client gets, last in its env (as the Kustomize components append
them): the in-cluster URL built from the Secret's password by the kubelet's $(VAR) expansion, or
the external URL from its Secret, plus the Sentinel variables when set.
*/}}
{{- define "stampede.redisEnv" -}}
{{- if eq .Values.redis.mode "in-cluster" }}
- name: REDIS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .Values.redis.inCluster.auth.existingSecret }}, key: {{ .Values.redis.inCluster.auth.passwordKey }} } }
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s.%s.svc:6379" (include "stampede.redisName" .) .Release.Namespace }}
{{- else if eq .Values.redis.mode "external" }}
- name: REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.redis.external.existingSecret }}, key: {{ .Values.redis.external.urlKey }} } }
{{- with .Values.redis.external.sentinel }}
{{- if .sentinels }}
- name: REDIS_SENTINELS
  value: {{ .sentinels | quote }}
{{- end }}
{{- if .passwordSecret }}
- name: REDIS_SENTINEL_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .passwordSecret }}, key: {{ .passwordKey }} } }
{{- end }}
{{- end }}
{{- else }}
{{- fail (printf "redis.mode must be in-cluster or external, not %q" .Values.redis.mode) }}
{{- end }}
{{- end -}}

{{/* OpenTelemetry variables of the watcher and worker. */}}
{{- define "stampede.tracingEnv" -}}
{{- with .Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.tracing.extraEnv }}
{{- if not (hasPrefix "OTEL_" $name) }}
{{- fail (printf "tracing.extraEnv: %s is not an OTEL_* variable" $name) }}
{{- end }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* True (non-empty) when an autoscaler owns the worker's replica count. */}}
{{- define "stampede.autoscaled" -}}
{{- if has .Values.autoscaling.mode (list "hpa" "keda") -}}true
{{- else if ne .Values.autoscaling.mode "none" -}}
{{- fail (printf "autoscaling.mode must be none, hpa or keda, not %q" .Values.autoscaling.mode) -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets, nodeSelector and tolerations of a pod. Usage: include "stampede.podScheduling" (list . .Values.worker) */}}
{{- define "stampede.podScheduling" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- with $component.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $component.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
