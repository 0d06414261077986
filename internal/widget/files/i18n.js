// The widget's labels in the built-in languages; a site overrides any of
// them with the labels setting.

const LABELS = {
  en: {
    title: "Chat with us", online: "We're online", away: "We'll reply as soon as we can", conversations: "Conversations",
    newConversation: "Start a conversation", placeholder: "Type a message…", send: "Send", back: "Back to conversations",
    close: "Close chat", talkToHuman: "Talk to a human", resolved: "This conversation is resolved. Send a message to reopen it.",
    sending: "Sending…", waiting: "Waiting for network…", offline: "You're offline. Messages will be sent when you reconnect.",
    typing: "{name} is typing…", attach: "Attach a file", location: "Share my location", tooLarge: "{name} is too large: the limit is {limit}.",
    badType: "{name} cannot be sent: only images, PDF, text, audio, video and office documents.", uploadFailed: "The upload failed: {reason}",
    you: "You", noConversations: "No conversations yet.", rate: "How was this conversation?", thanks: "Thank you for your feedback!",
    required: "{label} is required", invalid: "{label} is not valid", submit: "Submit", locationFailed: "Your location is not available.",
    today: "Today", bot: "Bot", agent: "Agent", star: "{n} star", stars: "{n} stars", earlier: "Load earlier messages",
  },
  es: {
    title: "Chatea con nosotros", online: "Estamos en línea", away: "Responderemos lo antes posible", conversations: "Conversaciones",
    newConversation: "Iniciar una conversación", placeholder: "Escribe un mensaje…", send: "Enviar", back: "Volver a las conversaciones",
    close: "Cerrar el chat", talkToHuman: "Hablar con una persona", resolved: "Esta conversación está resuelta. Envía un mensaje para reabrirla.",
    sending: "Enviando…", waiting: "Esperando la red…", offline: "Sin conexión. Los mensajes se enviarán al reconectar.",
    typing: "{name} está escribiendo…", attach: "Adjuntar un archivo", location: "Compartir mi ubicación", tooLarge: "{name} es demasiado grande: el límite es {limit}.",
    badType: "{name} no se puede enviar: solo imágenes, PDF, texto, audio, vídeo y documentos de oficina.", uploadFailed: "La subida falló: {reason}",
    you: "Tú", noConversations: "Aún no hay conversaciones.", rate: "¿Qué tal fue esta conversación?", thanks: "¡Gracias por tu opinión!",
    required: "{label} es obligatorio", invalid: "{label} no es válido", submit: "Enviar", locationFailed: "Tu ubicación no está disponible.",
    today: "Hoy", bot: "Bot", agent: "Agente", star: "{n} estrella", stars: "{n} estrellas", earlier: "Cargar mensajes anteriores",
  },
  pt: {
    title: "Fale conosco", online: "Estamos online", away: "Responderemos assim que possível", conversations: "Conversas",
    newConversation: "Iniciar uma conversa", placeholder: "Digite uma mensagem…", send: "Enviar", back: "Voltar às conversas",
    close: "Fechar o chat", talkToHuman: "Falar com uma pessoa", resolved: "Esta conversa foi resolvida. Envie uma mensagem para reabri-la.",
    sending: "Enviando…", waiting: "Aguardando a rede…", offline: "Você está offline. As mensagens serão enviadas ao reconectar.",
    typing: "{name} está digitando…", attach: "Anexar um arquivo", location: "Compartilhar minha localização", tooLarge: "{name} é grande demais: o limite é {limit}.",
    badType: "{name} não pode ser enviado: apenas imagens, PDF, texto, áudio, vídeo e documentos de escritório.", uploadFailed: "O envio falhou: {reason}",
    you: "Você", noConversations: "Ainda não há conversas.", rate: "Como foi esta conversa?", thanks: "Obrigado pela sua avaliação!",
    required: "{label} é obrigatório", invalid: "{label} não é válido", submit: "Enviar", locationFailed: "Sua localização não está disponível.",
    today: "Hoje", bot: "Bot", agent: "Agente", star: "{n} estrela", stars: "{n} estrelas", earlier: "Carregar mensagens anteriores",
  },
};

export function labels(lang, overrides) {
  const base = (lang || navigator.language || "en").toLowerCase().split(/[-_]/)[0];
  const out = Object.assign({}, LABELS.en, LABELS[base] || {});
  if (overrides && typeof overrides === "object") {
    for (const k of Object.keys(overrides)) if (typeof overrides[k] === "string") out[k] = overrides[k];
  }
  return out;
}

export function fmt(s, vars) {
  return String(s).replace(/\{(\w+)\}/g, (_, k) => (vars && vars[k] != null ? String(vars[k]) : ""));
}
