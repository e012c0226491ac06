// First: asks for the opening section's code before the modules below are evaluated (see opening.ts).
import './app/opening';
import { CellStyleModule, ColumnApiModule, InfiniteRowModelModule, ModuleRegistry, RowSelectionModule, TooltipModule, ValidationModule } from 'ag-grid-community';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import './app/app.css';

// Only the grid features the workbench uses: a smaller bundle is a faster first page. In development AG Grid's
// validation names any feature used without its module.
ModuleRegistry.registerModules([InfiniteRowModelModule, RowSelectionModule, CellStyleModule, ColumnApiModule, TooltipModule, ...(import.meta.env.DEV ? [ValidationModule] : [])]);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
