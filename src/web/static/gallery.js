// Minimal gallery shell: sign in, connect Instagram (popup with redirect fallback), sync, browse.
const app = document.getElementById('app')
const who = document.getElementById('who')

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: options.body ? { 'content-type': 'application/json' } : {},
    credentials: 'same-origin',
  })
  const body = response.status === 204 ? null : await response.json().catch(() => null)
  if (!response.ok)
    throw Object.assign(new Error(body?.error?.message ?? `HTTP ${response.status}`), {
      status: response.status,
    })
  return body
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else node.setAttribute(key, value)
  }
  for (const child of children) node.append(child)
  return node
}

function notice(text, kind = 'ok') {
  app.prepend(
    el('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text),
  )
}

function authForm() {
  const email = el('input', {
    type: 'email',
    name: 'email',
    autocomplete: 'email',
    required: '',
    'aria-label': 'Email',
  })
  const password = el('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: '',
    minlength: '10',
    'aria-label': 'Password',
  })
  const submit = (path) => async (event) => {
    event.preventDefault()
    try {
      await api(path, {
        method: 'POST',
        body: JSON.stringify({ email: email.value, password: password.value }),
      })
      await render()
    } catch (error) {
      notice(error.message, 'error')
    }
  }
  const form = el(
    'form',
    { class: 'auth', onsubmit: submit('/api/auth/login') },
    el('h2', {}, 'Sign in or register'),
    email,
    password,
    el('button', { class: 'primary', type: 'submit' }, 'Sign in'),
    el('button', { type: 'button', onclick: submit('/api/auth/register') }, 'Register'),
  )
  app.replaceChildren(form)
}

async function connect() {
  const popup = window.open('about:blank', 'psg-oauth', 'width=520,height=720')
  try {
    const { authorization_url } = await api('/api/socials/connect/instagram', {
      method: 'POST',
      body: JSON.stringify({ mode: popup ? 'popup' : 'redirect' }),
    })
    if (popup) popup.location.href = authorization_url
    else location.href = authorization_url
  } catch (error) {
    popup?.close()
    notice(error.message, 'error')
  }
}

window.addEventListener('message', (event) => {
  if (event.origin !== location.origin || event.data?.type !== 'psg-oauth-result') return
  const url = new URL('/gallery', location.origin)
  for (const [key, value] of Object.entries(event.data))
    if (key !== 'type') url.searchParams.set(key, value)
  location.assign(url)
})

async function renderMedia(container, cursor) {
  const page = await api(
    `/api/socials/media?limit=24${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
  )
  for (const item of page.items) {
    const src =
      item.media_type === 'VIDEO'
        ? item.thumbnail_url
        : item.media_type === 'CAROUSEL_ALBUM'
          ? item.children[0]?.media_url
          : item.media_url
    container.append(
      el(
        'a',
        {
          class: 'tile',
          href: item.permalink ?? '#',
          target: '_blank',
          rel: 'noopener noreferrer',
        },
        el('img', {
          src: src ?? '',
          alt: item.caption ?? '',
          loading: 'lazy',
          width: '320',
          height: '320',
        }),
        el(
          'span',
          { class: 'kind' },
          item.media_type === 'CAROUSEL_ALBUM'
            ? `album · ${item.children.length}`
            : item.media_type.toLowerCase(),
        ),
      ),
    )
  }
  document.getElementById('more')?.remove()
  if (page.next_cursor)
    container.after(
      el(
        'button',
        { id: 'more', onclick: () => renderMedia(container, page.next_cursor) },
        'Load more',
      ),
    )
}

async function render() {
  let me
  try {
    me = await api('/api/auth/me')
  } catch {
    who.replaceChildren()
    return authForm()
  }
  who.replaceChildren(
    me.user.email,
    ' ',
    el(
      'button',
      {
        onclick: async () => {
          await api('/api/auth/logout', { method: 'POST' })
          await render()
        },
      },
      'Sign out',
    ),
  )
  const { accounts } = await api('/api/socials/accounts')
  const list = el('div', { class: 'accounts' })
  for (const account of accounts) {
    const status = el(
      'span',
      { class: `badge ${account.status}` },
      account.status.replace('_', ' '),
    )
    const actions =
      account.account_type === 'oauth'
        ? [
            el(
              'button',
              {
                onclick: async (event) => {
                  event.target.disabled = true
                  status.textContent = 'syncing…'
                  try {
                    const r = await api(`/api/socials/accounts/${account.id}/sync`, {
                      method: 'POST',
                    })
                    notice(
                      `Synced @${account.username}: ${r.added} added, ${r.updated} updated, ${r.removed} removed (${r.api_calls} API calls)`,
                    )
                  } catch (error) {
                    notice(error.message, 'error')
                  }
                  await render()
                },
              },
              'Sync now',
            ),
          ]
        : []
    list.append(
      el(
        'div',
        { class: 'account' },
        el('strong', {}, `@${account.username}`),
        status,
        el('span', {}, `${account.posts_count ?? 0} posts`),
        el(
          'span',
          {},
          account.last_sync
            ? `last sync ${new Date(account.last_sync).toLocaleString()}`
            : 'never synced',
        ),
        account.status_message ? el('span', {}, account.status_message) : '',
        ...actions,
        el(
          'button',
          {
            onclick: async () => {
              if (
                !confirm(
                  `Disconnect @${account.username}? Its media will be removed from the gallery.`,
                )
              )
                return
              await api(`/api/socials/accounts/${account.id}`, { method: 'DELETE' })
              await render()
            },
          },
          'Disconnect',
        ),
      ),
    )
  }
  const grid = el('div', { class: 'grid' })
  app.replaceChildren(
    el('button', { class: 'primary', onclick: connect }, 'Connect Instagram'),
    list,
    grid,
  )
  await renderMedia(grid)
}

render().catch((error) => notice(error.message, 'error'))
