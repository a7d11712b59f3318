"""zh-CN: the messages of people acting as themselves (linking, approvals, guardrails, audit)."""

MESSAGES: dict[str, str] = {
    "Guardrail “{name}”": "护栏“{name}”",
    "Guardrail {position}": "护栏 {position}",
    "Guardrails are set by operators above every channel, in the `guardrails:` of the {source}.": "护栏由运维人员在 {source} 的 `guardrails:` 中设置，高于所有频道的映射。",
    "{guardrail} denies {rule} in {namespace}, whatever a channel's role.": "{guardrail} 禁止在 {namespace} 中执行 {rule}，无论频道的角色如何。",
}
