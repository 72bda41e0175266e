/**
 * @module web/dialog — a confirmation dialog on the native <dialog> (focus is trapped by the
 * browser, Esc cancels), returning focus to the control that opened it.
 */
import { h } from './dom.ts'

export function confirmDialog(options: {
  title: string
  body: string
  confirm: string
  returnFocus: HTMLElement
}): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button' }, 'Cancel')
    const confirm = h('button', { type: 'button', class: 'danger' }, options.confirm)
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body' },
      h('h2', { id: 'confirm-title' }, options.title),
      h('p', { id: 'confirm-body' }, options.body),
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    )
    const finish = (value: boolean): void => {
      dialog.close()
      dialog.remove()
      options.returnFocus.focus()
      resolve(value)
    }
    cancel.addEventListener('click', () => finish(false))
    confirm.addEventListener('click', () => finish(true))
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault()
      finish(false)
    })
    document.body.append(dialog)
    dialog.showModal()
    cancel.focus()
  })
}
