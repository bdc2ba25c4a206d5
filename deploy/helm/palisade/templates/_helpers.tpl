{{/*
Name of every namespaced object and of the pods' app.kubernetes.io/name label: the manifests'
`palisade-webhook` unless overridden. Not derived from the release name because the webhook is a
per-cluster singleton (its ValidatingWebhookConfiguration is cluster-scoped).
*/}}
{{- define "palisade.fullname" -}}
{{- default "palisade-webhook" .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "palisade.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels. Only the name, exactly as the manifests select, so a release can take over a
manifests install without changing an immutable Deployment selector.
*/}}
{{- define "palisade.selectorLabels" -}}
app.kubernetes.io/name: {{ include "palisade.fullname" . }}
{{- end -}}

{{- define "palisade.labels" -}}
{{ include "palisade.selectorLabels" . }}
app.kubernetes.io/part-of: palisade
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "palisade.chart" . }}
{{- end -}}

{{/* repository@digest when a digest is given (pinned), repository:tag otherwise. */}}
{{- define "palisade.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "palisade.tlsSecretName" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "palisade.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "palisade.configMapName" -}}
{{- if .Values.existingConfigMap -}}
{{- .Values.existingConfigMap -}}
{{- else -}}
{{- /* The manifests' name is palisade-policies for the default fullname. */ -}}
{{- printf "%s-policies" (include "palisade.fullname" . | trimSuffix "-webhook") -}}
{{- end -}}
{{- end -}}

{{/* --failure-mode: explicit, or derived from failurePolicy as `admission manifests` does. */}}
{{- define "palisade.failureMode" -}}
{{- if .Values.webhook.failureMode -}}
{{- .Values.webhook.failureMode -}}
{{- else if eq .Values.webhook.failurePolicy "Fail" -}}
closed
{{- else -}}
open
{{- end -}}
{{- end -}}

{{/*
Namespaces the webhook never judges: kube-system and the release namespace always (so a broken
webhook cannot block its own repair), then the configured ones, without duplicates.
*/}}
{{- define "palisade.exemptNamespaces" -}}
{{- $exempt := list "kube-system" .Release.Namespace -}}
{{- range .Values.webhook.exemptNamespaces -}}
{{- $exempt = append $exempt . -}}
{{- end -}}
{{- $exempt | uniq | toJson -}}
{{- end -}}
